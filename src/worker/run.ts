import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { AppError } from '../core/errors.js';
import { errorLine, redactSqlValues } from '../core/sql-values.js';
import { LOST_CONNECTION_CODES } from '../core/connection-errors.js';
import { Logger, run, runMigrations, type Runner, type Task, type TaskList } from 'graphile-worker';
import { RETRYABLE_ERROR_CODES } from 'graphile-worker/dist/lib.js';
import type pg from 'pg';
import type { Deps } from '../deps.js';
import type { TaskName } from '../async/tasks.js';
import { makeSecretBox } from '../core/secret-box.js';
import { startFanoutLoop } from '../feeds/fanout-loop.js';
import { CHANGES_CHANNEL, CHANGES_PAYLOAD } from '../storage/changes.js';
import { siblingDatabase } from '../storage/db.js';
import { makeStorage } from '../storage/index.js';
import { makeEventNotifier } from '../storage/notify.js';
import { makeApplyAsyncRequest } from './tasks/apply-async-request.js';
import { makePrune } from './tasks/prune.js';
import { makeDeliverPush } from './tasks/deliver-push.js';
import { startPushDelivery } from './push-delivery.js';
import { startPriorityAging } from './priority-aging.js';
import { withTaggedConnectionErrors } from './transient-pool.js';

/** graphile-worker's own schema, migrated under the same advisory lock as ours (storage/migrate.ts). */
export async function migrateWorkerSchema(pool: pg.Pool): Promise<void> {
  await runMigrations({ pgPool: pool, logger: quietLogger });
}

/** A failed multi-row statement quotes its whole text: a log line keeps its start. */
const LOG_LINE_CHARS = 4_000;

/**
 * A job the stopping worker ended between two units of work (ERR_WORKER_STOPPING) is not a
 * failure: it resumes where it ended on the next run. graphile-worker reports it as a failed task
 * all the same; an operator pressing Ctrl-C must not read an error for a clean stop.
 */
const stoppedOnRequest = (meta: unknown) => {
  const error = (meta as { error?: unknown } | undefined)?.error;
  return error instanceof AppError && error.code === 'ERR_WORKER_STOPPING';
};

const quietLogger = new Logger(() => (level, message, meta) => {
  if (stoppedOnRequest(meta)) return;
  if (level === 'error' || level === 'warning') process.stderr.write(`${JSON.stringify({ level, source: 'worker', msg: redactSqlValues(message).slice(0, LOG_LINE_CHARS) })}\n`);
});

/** One task per file under tasks/, one per entry of the payload table (async/tasks.ts). */
export function makeTaskList(d: Deps): TaskList & Record<TaskName, Task> {
  return { apply_async_request: makeApplyAsyncRequest(d), deliver_push: makeDeliverPush(), prune: makePrune(d) };
}

export interface WorkerHandle {
  readonly id: string;
  stop(): Promise<void>;
}

/**
 * graphile-worker records a job's outcome (completeJob/failJob) without awaiting it, retrying only
 * the error codes in its RETRYABLE_ERROR_CODES. A refused or reset connection is not among them,
 * so a task that ends while PostgreSQL is away (a restart, a failover) rejects unhandled and kills
 * the process, and the job stays locked for hours. These are transient by nature: the connection
 * comes back. Marking them retryable makes the outcome wait for the database instead
 * (PostgreSQL restarted under load: the service recovers by itself). node-postgres's
 * own code-less "Connection terminated" errors get 08006 from transient-pool.ts. The codes are
 * core/connection-errors.ts's lost-connection list, which the API answers 503 for too.
 */
function retryConnectionErrors(): void {
  for (const code of LOST_CONNECTION_CODES) RETRYABLE_ERROR_CODES[code] ??= { minDelay: 500, maxDelay: 10_000 };
}

/** Six beats per SCIMCAST_WORKER_DEAD_AFTER_MS (30 s by default: a beat every 5 s). */
const heartbeatMs = (deadAfterMs: number) => Math.floor(deadAfterMs / 6);

/**
 * graphile-worker's own connections. Its job fetch orders the queue by priority and age, which its
 * index on (priority, run_at) answers by reading the first due row. In a database whose queue table
 * has no statistics yet (a fresh install, until autovacuum first analyses it), the planner took a
 * scan and sort of the whole queue instead, for every job fetched: 2.3 ms of PostgreSQL per job
 * with 10,000 queued, growing with the queue. Sorting off on these connections makes the index the
 * plan whatever the statistics say; a statement with no index to follow still sorts (the setting
 * only raises its cost). test/integration/graphile-worker-internals.test.ts checks both plans.
 */
export const JOB_CONNECTION_SETTINGS = { enable_sort: 'off' } as const;

/**
 * graphile-worker records a job's outcome without awaiting it (see retryConnectionErrors), so
 * the runner's stop can resolve while the release of a job stopped mid-bulk is still on its
 * way. A pool that ends meanwhile never serves it, and the job stays locked until this worker
 * counts as dead. Its connections are closed once nothing uses them, or after 5 s.
 */
async function quiet(pool: pg.Pool): Promise<void> {
  for (let waited = 0; waited < 5_000 && (pool.waitingCount > 0 || pool.totalCount > pool.idleCount); waited += 25) await new Promise((r) => setTimeout(r, 25));
}

/**
 * Start a runner. Signals are handled once, by the CLI (noHandleSignals).
 */
export async function startWorker(d: Deps, pool: pg.Pool, opts: { databaseUrl?: string } = {}): Promise<WorkerHandle> {
  const id = `${hostname()}:${process.pid}:${d.ids.uuid().slice(0, 8)}`;
  const databaseUrl = opts.databaseUrl ?? d.config.databaseUrl;
  if (!databaseUrl) throw new Error('startWorker: the database URL is needed for push delivery (its own pool)');
  retryConnectionErrors();
  const graphileIds: string[] = [];
  const events = new EventEmitter() as NonNullable<Parameters<typeof run>[0]['events']>;
  // graphile-worker 0.17 locks jobs and queues with the *pool* id (batchGetJobs(…, workerPool.id)),
  // not the per-slot worker ids: both go in the heartbeat, or releaseDeadWorkers would take a live
  // pool's long job for a dead one and let it run twice (test/reliability/live-job-lock.test.ts).
  events.on('pool:create', ({ workerPool }) => graphileIds.push(workerPool.id));
  events.on('worker:create', ({ worker }) => graphileIds.push(worker.workerId));
  // Its LISTEN connection, one job fetch per slot, and the completions.
  const jobsDb = siblingDatabase(pool, d.config.worker.concurrency + 2, 'scimcast-jobs', JOB_CONNECTION_SETTINGS);
  const runner: Runner = await run({
    events,
    pgPool: withTaggedConnectionErrors(jobsDb.pool),
    taskList: makeTaskList(d),
    concurrency: d.config.worker.concurrency,
    noHandleSignals: true,
    // On stop, a running job is asked at once (its abort signal) to end at its next safe point:
    // a bulk ends between two units of work and resumes there on the next run. The default waits
    // 5 s first, which a Ctrl-C in a terminal would spend waiting for more units to commit.
    gracefulShutdownAbortTimeout: 0,
    pollInterval: 1000,
    logger: quietLogger,
    // Retention runs hourly on whichever worker takes it (graphile-worker crontab, one per cluster).
    crontab: '0 * * * * prune',
    // Job outcomes are not batched (completeJobBatchDelay): a batch of outcomes that fails while
    // PostgreSQL restarts ends graphile-worker's pool, and the worker would apply nothing more
    // (test/reliability/postgres-restart.test.ts).
  }).catch(async (e: unknown) => {
    await jobsDb.close();
    throw e;
  });
  const beat = async () => {
    try {
      await d.storage.heartbeats.beat(id, d.clock.now(), graphileIds);
      // Any live worker releases the jobs of dead ones (SIGKILL, OOM, lost host).
      await d.storage.heartbeats.releaseDeadWorkers(d.clock.now(), d.config.worker.deadAfterMs);
    } catch {
      /* the database is away; /readyz shows it, the next beat retries */
    }
  };
  await beat();
  const timer = setInterval(beat, heartbeatMs(d.config.worker.deadAfterMs));
  timer.unref();
  const aging = startPriorityAging(d);
  // The fan-out (changes → signed SETs per stream) on its own pool and LISTEN connection.
  const fanDb = siblingDatabase(pool, 3, 'scimcast-fanout');
  const waker = makeEventNotifier(fanDb.pool, CHANGES_CHANNEL);
  const fanout = startFanoutLoop({ ...d.fanout, storage: makeStorage(fanDb.db, makeSecretBox(d.config.keyEncryption)) }, waker, {
    key: CHANGES_PAYLOAD,
    idleMs: 1000,
    // A quarter of the 25 ms commit-to-delivery goal; at a few hundred creates per second it
    // keeps the fan-out to a hundred transactions per second.
    gatherMs: 6,
    onError: (e) => process.stderr.write(`${JSON.stringify({ level: 'error', source: 'fanout', msg: errorLine(e) })}\n`),
  });
  // Push is not a graphile-worker job: long-lived per-stream loops woken by NOTIFY.
  const push = startPushDelivery(d, databaseUrl);
  return {
    id,
    async stop() {
      clearInterval(timer);
      aging.stop();
      // Together: the runner waits for its running job, the fan-out for its batch, push for
      // the SETs in flight.
      const stopFanout = async () => {
        await fanout.stop();
        await waker.close();
        await fanDb.close();
      };
      const stopJobs = async () => {
        await runner.stop();
        await quiet(jobsDb.pool);
        await jobsDb.close();
      };
      await Promise.all([stopJobs(), stopFanout(), push.close()]);
      await d.storage.heartbeats.forget(id).catch(() => {});
    },
  };
}
