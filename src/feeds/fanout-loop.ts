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
 * each batch reads, so a commit landing in between wakes the next wait at once.
 */
export function startFanoutLoop(d: FanoutDeps, waker: ChangeWaker, opts: { key: string; idleMs: number; onError: (e: unknown) => void }): FanoutLoop {
  const stopping = new AbortController();
  const run = async () => {
    while (!stopping.signal.aborted) {
      const next = new AbortController();
      const onStop = () => next.abort();
      stopping.signal.addEventListener('abort', onStop);
      const woken = waker.wait(opts.key, opts.idleMs, next.signal);
      try {
        const n = await fanOutOnce(d);
        if (n) next.abort();
        await woken;
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
