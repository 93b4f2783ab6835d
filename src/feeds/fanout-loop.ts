import { fanOutOnce, type FanoutDeps } from './fanout.js';

/** Wakes the loop when changes commit (storage/notify.ts on the changes channel). */
export interface ChangeWaker {
  wait(key: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
}

export interface FanoutLoop {
  stop(): Promise<void>;
}

/**
 * The worker's fan-out: runs batch after batch while changes wait, then sleeps until a commit's
 * NOTIFY wakes it, or `idleMs` passes (a NOTIFY lost while the LISTEN connection reconnected,
 * or a fan-out that another process holds and may not finish). The wait is registered before
 * each batch reads, so a commit landing in between wakes the next wait at once. After a batch
 * short of the limit the loop starts the next no sooner than `gatherMs` after it began, so under
 * a stream of single creates each batch carries several.
 */
export function startFanoutLoop(d: FanoutDeps, waker: ChangeWaker, opts: { key: string; idleMs: number; gatherMs?: number; onError: (e: unknown) => void }): FanoutLoop {
  const stopping = new AbortController();
  const gatherMs = opts.gatherMs ?? 0;
  const run = async () => {
    while (!stopping.signal.aborted) {
      const next = new AbortController();
      const onStop = () => next.abort();
      stopping.signal.addEventListener('abort', onStop);
      const woken = waker.wait(opts.key, opts.idleMs, next.signal);
      try {
        const began = performance.now();
        const n = await fanOutOnce(d);
        if (n) next.abort();
        await woken;
        // A batch short of the limit: let a few more changes gather before the next, rather than
        // paying a transaction's fixed statements (and a commit) for each create.
        if (n && n < d.batch && gatherMs > 0) await pause(began + gatherMs - performance.now(), stopping.signal);
      } catch (e) {
        if (!stopping.signal.aborted) opts.onError(e);
        await woken;
      } finally {
        stopping.signal.removeEventListener('abort', onStop);
      }
    }
  };
  const done = run();
  return {
    async stop() {
      stopping.abort();
      await done;
    },
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
