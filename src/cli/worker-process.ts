import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerProcess } from '../main.js';
import { makeIpcRequests } from './ipc-requests.js';

/**
 * `scimcast start` runs its worker as a child process: `scimcast worker --supervised` with
 * DATABASE_URL pointed at the database the parent opened (its embedded PostgreSQL, or the
 * DATABASE_URL it was given). The same command as a worker replica of a larger deployment, so the
 * two never drift apart; `--supervised` only ties its life to the parent's (see index.ts).
 *
 * A worker that dies without being asked (a crash, an OOM kill, SIGKILL) is started again after a
 * backoff, and the job locks it held are released at once, while the API keeps serving.
 */

/** The `scimcast` command: a child started from it runs the same code as the parent (src/ or dist/). */
const BIN = fileURLToPath(new URL('../../bin/scimcast.js', import.meta.url));

/** Over the IPC channel: parent to worker. */
export type ToWorker = { type: 'scrape'; id: number };
/** Over the IPC channel: worker to parent. */
export type FromWorker = { type: 'ready'; workerId: string } | { type: 'metrics'; id: number; text: string };

export interface RestartBackoff {
  /** First delay after an unexpected exit; doubled for each further exit in a row. */
  readonly baseMs: number;
  readonly capMs: number;
  /** A worker that ran this long before dying starts the doubling again from baseMs. */
  readonly resetAfterMs: number;
}

/**
 * One second, doubling to 30 s: a worker that crashes at once (a bad job, a database that refuses
 * it) must not spin a CPU starting Node over and over, and one crash is back within a second.
 */
export const RESTART_BACKOFF: RestartBackoff = { baseMs: 1_000, capMs: 30_000, resetAfterMs: 60_000 };

/** A scrape the worker does not answer in this time is served without its counters. */
const SCRAPE_TIMEOUT_MS = 2_000;

export interface SupervisorOptions {
  readonly args: readonly string[];
  readonly env: Record<string, string | undefined>;
  readonly log: (level: 'info' | 'warn', msg: string) => void;
  /** How long a worker may take to stop on SIGTERM before it is killed. */
  readonly stopTimeoutMs: number;
  /** A worker died: release what it held (its job locks), since it will never finish them. */
  readonly onDead: (workerId: string) => Promise<void>;
  readonly backoff?: RestartBackoff;
}

export interface SupervisedWorker extends WorkerProcess {
  /** The running worker process's pid, if one is running. */
  pid(): number | undefined;
}

interface Entry {
  readonly child: ChildProcess;
  readonly startedAt: number;
  readonly exited: Promise<void>;
  workerId: string | undefined;
}

/**
 * The worker gets none of the API's node flags (an --inspect port would clash) except V8's CPU
 * profiler, so `node --cpu-prof bin/scimcast.js start` profiles both processes: Node refuses
 * --cpu-prof in NODE_OPTIONS.
 */
const profilerArgs = (argv: readonly string[]) => argv.filter((a) => a.startsWith('--cpu-prof'));

const describeExit = (code: number | null, signal: NodeJS.Signals | null) => (signal ? `signal ${signal}` : `exit code ${code}`);

/** Start the worker process; resolves once it runs (its first heartbeat is written), rejects if it dies first. */
export async function superviseWorker(opts: SupervisorOptions): Promise<SupervisedWorker> {
  const backoff = opts.backoff ?? RESTART_BACKOFF;
  let current: Entry | undefined;
  let stopping = false;
  let failures = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  const scrapes = makeIpcRequests(SCRAPE_TIMEOUT_MS);

  const spawnOne = (initial: boolean): Promise<Entry> => {
    const child = fork(BIN, [...opts.args], { env: opts.env, execArgv: profilerArgs(process.execArgv), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const entry: Entry = { child, startedAt: Date.now(), workerId: undefined, exited: new Promise((r) => child.once('exit', () => r())) };
    current = entry;
    return new Promise<Entry>((resolve, reject) => {
      child.on('message', (m: FromWorker) => {
        if (m?.type === 'ready') {
          entry.workerId = m.workerId;
          resolve(entry);
        } else if (m?.type === 'metrics') scrapes.answer(m.id, m.text);
      });
      child.once('error', (e) => reject(e));
      child.once('exit', (code, signal) => {
        reject(new Error(`the worker process exited (${describeExit(code, signal)}) before it was ready`));
        if (current === entry) current = undefined;
        // The first start's failure is the caller's (scimcast start fails); later ones are crashes.
        if (!stopping && !(initial && entry.workerId === undefined)) crashed(entry, code, signal);
      });
    });
  };

  const crashed = (entry: Entry, code: number | null, signal: NodeJS.Signals | null) => {
    if (entry.workerId) {
      opts.onDead(entry.workerId).catch((e) => opts.log('warn', `could not release the job locks of worker ${entry.workerId}: ${String(e)}`));
    }
    if (Date.now() - entry.startedAt >= backoff.resetAfterMs) failures = 0;
    const delay = Math.min(backoff.capMs, backoff.baseMs * 2 ** failures);
    failures++;
    opts.log('warn', `worker process ${entry.child.pid} exited (${describeExit(code, signal)}); starting a new one in ${delay} ms`);
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      spawnOne(false).then(
        (e) => opts.log('info', `worker process ${e.child.pid} started`),
        () => {
          /* its exit handler has scheduled the next attempt */
        },
      );
    }, delay);
  };

  const first = await spawnOne(true);
  opts.log('info', `worker process ${first.child.pid} started`);

  return {
    pid: () => current?.child.pid,
    async scrape() {
      const entry = current;
      if (!entry?.workerId || !entry.child.connected) return undefined;
      return scrapes.ask((id, sent) => entry.child.send({ type: 'scrape', id } satisfies ToWorker, sent));
    },
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      const entry = current;
      if (!entry) return;
      entry.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([entry.exited.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), opts.stopTimeoutMs)))]);
      clearTimeout(timer);
      if (inTime) return;
      opts.log('warn', `worker process ${entry.child.pid} did not stop within ${opts.stopTimeoutMs} ms; killing it`);
      entry.child.kill('SIGKILL');
      await entry.exited;
      if (entry.workerId) await opts.onDead(entry.workerId).catch(() => {});
    },
  };
}
