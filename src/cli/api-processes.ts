import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { ApiProcesses } from '../main.js';
import { RESTART_BACKOFF, type RestartBackoff } from './worker-process.js';
import { makeIpcRequests } from './ipc-requests.js';

/**
 * `scimcast start` with SCIMCAST_API_PROCESSES above 1: the API in that many processes on the one
 * port, through node:cluster. This process (the primary) keeps what there is one of: the embedded
 * PostgreSQL, the worker process, the signals and the token-less metrics listener. It accepts the
 * connections and hands them to the API processes in turn (cluster's round robin: Node 20 has no
 * SO_REUSEPORT for HTTP servers, and the kernel's own spreading favours one process under
 * keep-alive). Each API process is `scimcast serve --api-process`: its own event loop, pool of
 * connections, token cache and revocation LISTEN.
 *
 * An API process that dies without being asked is started again after a backoff, while the others
 * keep serving. Its life is tied to this process: cluster ends a worker whose primary is gone.
 */

/** The `scimcast` command: a process started from it runs the same code as this one (src/ or dist/). */
const BIN = fileURLToPath(new URL('../../bin/scimcast.js', import.meta.url));

/** Over the IPC channel: primary to API process. */
export type ToApi = { type: 'render'; id: number } | { type: 'scraped'; id: number; text: string | undefined };
/** Over the IPC channel: API process to primary. */
export type FromApi = { type: 'rendered'; id: number; text: string } | { type: 'scrape'; id: number };

/** A process that does not answer a scrape in this time is left out of it. */
const SCRAPE_TIMEOUT_MS = 2_000;

export interface ApiProcessOptions {
  readonly count: number;
  readonly args: readonly string[];
  readonly env: Record<string, string | undefined>;
  readonly log: (level: 'info' | 'warn', msg: string) => void;
  /** How long API processes may take to drain on SIGTERM before they are killed. */
  readonly stopTimeoutMs: number;
  /** The deployment's metrics (every process's counters summed), for an API process's /metrics. */
  readonly scrapeAll: () => Promise<string>;
  readonly backoff?: RestartBackoff;
}

export interface SupervisedApiProcesses extends ApiProcesses {
  /** The pids of the API processes running now. */
  pids(): number[];
}

interface Slot {
  readonly worker: Worker;
  readonly startedAt: number;
  readonly exited: Promise<void>;
  listening: boolean;
}

const describeExit = (code: number | null, signal: string | null) => (signal ? `signal ${signal}` : `exit code ${code}`);

/** As for the worker process: V8's CPU profiler only, so `node --cpu-prof` profiles every process. */
const profilerArgs = (argv: readonly string[]) => argv.filter((a) => a.startsWith('--cpu-prof'));

/** Fork `count` API processes; resolves once each listens, rejects (stopping the others) if one dies first. */
export async function superviseApiProcesses(opts: ApiProcessOptions): Promise<SupervisedApiProcesses> {
  const backoff = opts.backoff ?? RESTART_BACKOFF;
  const slots = new Set<Slot>();
  const restarts = new Set<NodeJS.Timeout>();
  const renders = makeIpcRequests(SCRAPE_TIMEOUT_MS);
  let stopping = false;
  let failures = 0;
  let address = '';

  cluster.setupPrimary({ exec: BIN, args: [...opts.args], execArgv: profilerArgs(process.execArgv) });

  const forkOne = (initial: boolean): Promise<Slot> => {
    const worker = cluster.fork(opts.env);
    const slot: Slot = { worker, startedAt: Date.now(), listening: false, exited: new Promise((r) => worker.once('exit', () => r())) };
    slots.add(slot);
    worker.on('message', (m: FromApi) => {
      if (m?.type === 'rendered') renders.answer(m.id, m.text);
      else if (m?.type === 'scrape') {
        opts.scrapeAll().then(
          (text) => text,
          () => undefined,
        ).then((text) => worker.isConnected() && worker.send({ type: 'scraped', id: m.id, text } satisfies ToApi));
      }
    });
    return new Promise<Slot>((resolve, reject) => {
      worker.once('listening', (a) => {
        slot.listening = true;
        const host = a.address && a.address !== '::' && a.address !== '0.0.0.0' ? a.address : '127.0.0.1';
        address ||= `http://${host.includes(':') ? `[${host}]` : host}:${a.port}`;
        resolve(slot);
      });
      worker.once('error', (e) => reject(e));
      worker.once('exit', (code, signal) => {
        slots.delete(slot);
        reject(new Error(`API process ${worker.process.pid} exited (${describeExit(code, signal)}) before it listened`));
        // The first start's failure is the caller's (scimcast start fails); later ones are crashes.
        if (!stopping && !(initial && !slot.listening)) crashed(slot, code, signal);
      });
    });
  };

  const crashed = (slot: Slot, code: number | null, signal: string | null) => {
    if (Date.now() - slot.startedAt >= backoff.resetAfterMs) failures = 0;
    const delay = Math.min(backoff.capMs, backoff.baseMs * 2 ** failures);
    failures++;
    opts.log('warn', `API process ${slot.worker.process.pid} exited (${describeExit(code, signal)}); starting a new one in ${delay} ms`);
    const timer = setTimeout(() => {
      restarts.delete(timer);
      if (stopping) return;
      forkOne(false).then(
        (s) => opts.log('info', `API process ${s.worker.process.pid} started`),
        () => {
          /* its exit handler has scheduled the next attempt */
        },
      );
    }, delay);
    restarts.add(timer);
  };

  const stop = async () => {
    stopping = true;
    for (const t of restarts) clearTimeout(t);
    const running = [...slots];
    // SIGTERM rather than cluster's disconnect: each drains as a lone `scimcast serve` would.
    for (const s of running) s.worker.process.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all(running.map((s) => s.exited)).then(() => true);
    const inTime = await Promise.race([all, new Promise<false>((r) => (timer = setTimeout(() => r(false), opts.stopTimeoutMs)))]);
    clearTimeout(timer);
    if (inTime) return;
    for (const s of slots) {
      opts.log('warn', `API process ${s.worker.process.pid} did not stop within ${opts.stopTimeoutMs} ms; killing it`);
      s.worker.process.kill('SIGKILL');
    }
    await all;
  };

  try {
    const first = await Promise.all(Array.from({ length: opts.count }, () => forkOne(true)));
    opts.log('info', `${opts.count} API processes (pids ${first.map((s) => s.worker.process.pid).join(', ')}) listening on ${address}`);
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    get address() {
      return address;
    },
    pids: () => [...slots].filter((s) => s.listening).map((s) => s.worker.process.pid!),
    async scrape() {
      const texts = await Promise.all(
        [...slots]
          .filter((s) => s.listening && s.worker.isConnected())
          .map((s) => renders.ask((id, sent) => s.worker.send({ type: 'render', id } satisfies ToApi, sent))),
      );
      return texts.filter((t): t is string => t !== undefined);
    },
    stop,
  };
}
