import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { Logger, run, runMigrations, type Runner, type TaskList } from 'graphile-worker';
import type pg from 'pg';
import type { Deps } from '../deps.js';
import { makeApplyAsyncRequest } from './tasks/apply-async-request.js';
import { makePrune } from './tasks/prune.js';
import { makeDeliverPush } from './tasks/deliver-push.js';

/** graphile-worker's own schema, migrated under the same advisory lock as ours (storage/migrate.ts). */
export async function migrateWorkerSchema(pool: pg.Pool): Promise<void> {
  await runMigrations({ pgPool: pool, logger: quietLogger });
}

const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') process.stderr.write(`${JSON.stringify({ level, source: 'worker', msg: message })}\n`);
});

/** One task per file under tasks/. */
export function makeTaskList(d: Deps): TaskList {
  return { apply_async_request: makeApplyAsyncRequest(d), deliver_push: makeDeliverPush(d), prune: makePrune(d) };
}

export interface WorkerHandle {
  readonly id: string;
  stop(): Promise<void>;
}

const HEARTBEAT_MS = 5_000;

/**
 * Start a runner. No localQueue: it breaks per-queue ordering (stack-notes §4, graphile/worker#621).
 * Signals are handled once, by the CLI (noHandleSignals).
 */
export async function startWorker(d: Deps, pool: pg.Pool): Promise<WorkerHandle> {
  const id = `${hostname()}:${process.pid}:${d.ids.uuid().slice(0, 8)}`;
  const graphileIds: string[] = [];
  const events = new EventEmitter() as NonNullable<Parameters<typeof run>[0]['events']>;
  events.on('worker:create', ({ worker }) => graphileIds.push(worker.workerId));
  const runner: Runner = await run({
    events,
    pgPool: pool,
    taskList: makeTaskList(d),
    concurrency: d.config.worker.concurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: quietLogger,
    // Retention runs hourly on whichever worker takes it (graphile-worker crontab, one per cluster).
    crontab: '0 * * * * prune',
  });
  const beat = async () => {
    try {
      await d.storage.heartbeats.beat(id, d.clock.now(), graphileIds);
      // Any live worker releases the jobs of dead ones (SIGKILL, OOM, lost host).
      await d.storage.heartbeats.releaseDeadWorkers(d.clock.now(), HEARTBEAT_FRESH_MS);
    } catch {
      /* the database is away; /readyz shows it, the next beat retries */
    }
  };
  await beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();
  return {
    id,
    async stop() {
      clearInterval(timer);
      await runner.stop();
      await d.storage.heartbeats.forget(id).catch(() => {});
    },
  };
}

export const HEARTBEAT_FRESH_MS = 6 * HEARTBEAT_MS;
