import type { RoundEnd } from './deliver.js';

/**
 * The per-stream push loops of one worker process (RFC 8935 delivery and its retries). A stream
 * with pending SETs is served by one long-lived loop, woken by the NOTIFY its SETs' commit sends:
 * it runs delivery rounds while there is work, waits on a timer while a retry is due, and idles
 * (holding the stream) when the queue is empty. It neither polls nor ends with an empty queue,
 * and it is not one job per SET.
 *
 * Order across processes: a loop only runs while its process holds the stream's lease (one
 * holder at a time, see storage/feed-leases.ts), and within a process there is never more than one
 * loop per stream. Pure apart from what comes in: the lease, the round, the clock and the timers.
 */
export interface Lease {
  tryAcquire(feedId: string): Promise<boolean>;
  release(feedId: string): Promise<void>;
  /** Changes when every lease was lost at once (the lease connection went away). */
  readonly epoch: number;
}

export interface PushLoopDeps {
  readonly lease: Lease;
  /** One delivery round (deliverFeed); it asks `interrupted` before each send. */
  readonly round: (feedId: string, interrupted: () => boolean) => Promise<RoundEnd>;
  readonly now: () => number;
  /** Run `fn` after `ms`; returns a cancel function. */
  readonly after: (ms: number, fn: () => void) => () => void;
  /**
   * An idle loop gives its stream up after this long: a quiet stream goes to whichever process
   * hears its next NOTIFY first, so streams spread over the workers over time.
   */
  readonly idleReleaseMs: number;
  /**
   * After finding a stream's lease held by another process, NOTIFYs for it are not tried again
   * for this long: its holder hears them too. The sweep still tries (a holder that died).
   */
  readonly heldElsewhereMs: number;
  /** After a round failed (database away, a stream row it cannot read), the stream rests this long here. */
  readonly errorDelayMs: number;
  readonly onError?: ((feedId: string, e: unknown) => void) | undefined;
}

export type WakeSource = 'notify' | 'sweep';

export interface PushLoops {
  wake(feedId: string, source: WakeSource): void;
  /** Every lease is gone: no loop sends again; rounds under way end after their current window. */
  leasesLost(): void;
  /** Streams with a loop in this process. */
  serving(): string[];
  /** Stop every loop and wait for rounds under way; the leases stay with the caller to close. */
  stop(): Promise<void>;
}

type Phase = 'acquiring' | 'running' | 'waiting' | 'idle' | 'releasing';

interface Loop {
  readonly feedId: string;
  phase: Phase;
  /** A wake arrived during the current phase: another round (or another acquire) is needed. */
  woken: boolean;
  /** The lease epoch the loop's lease belongs to. */
  epoch: number;
  cancel: (() => void) | undefined;
}

export function makePushLoops(d: PushLoopDeps): PushLoops {
  const loops = new Map<string, Loop>();
  const skip = new Map<string, { until: number; sweepToo: boolean }>();
  const busy = new Set<Promise<void>>();
  let stopped = false;

  const track = (p: Promise<void>) => {
    busy.add(p);
    void p.finally(() => busy.delete(p));
  };
  const mine = (l: Loop) => loops.get(l.feedId) === l;
  const leaseGone = (l: Loop) => stopped || l.epoch !== d.lease.epoch;
  const setTimer = (l: Loop, ms: number, phase: Phase, fn: () => void) => {
    l.cancel = d.after(ms, () => {
      l.cancel = undefined;
      if (mine(l) && l.phase === phase && !stopped) fn();
    });
  };

  function wake(feedId: string, source: WakeSource): void {
    if (stopped) return;
    const l = loops.get(feedId);
    if (l) {
      if (l.phase === 'idle') {
        l.cancel?.();
        l.cancel = undefined;
        track(run(l));
      } else if (l.phase !== 'waiting') {
        l.woken = true;
      }
      // 'waiting': the retry time stands (backoff, Retry-After); its timer runs the round.
      return;
    }
    const s = skip.get(feedId);
    if (s && d.now() < s.until && (source === 'notify' || s.sweepToo)) return;
    skip.delete(feedId);
    const nl: Loop = { feedId, phase: 'acquiring', woken: false, epoch: d.lease.epoch, cancel: undefined };
    loops.set(feedId, nl);
    track(acquire(nl));
  }

  async function acquire(l: Loop): Promise<void> {
    const ok = await d.lease.tryAcquire(l.feedId).catch(() => false);
    if (!ok || leaseGone(l)) {
      loops.delete(l.feedId);
      if (!ok && !stopped) skip.set(l.feedId, { until: d.now() + d.heldElsewhereMs, sweepToo: false });
      return;
    }
    await run(l);
  }

  async function run(l: Loop): Promise<void> {
    l.phase = 'running';
    for (;;) {
      l.woken = false;
      let end: RoundEnd | undefined;
      try {
        end = await d.round(l.feedId, () => leaseGone(l));
      } catch (e) {
        d.onError?.(l.feedId, e);
      }
      if (leaseGone(l)) return forget(l);
      if (!end) {
        // Give the stream up for a while: another process may be able to serve it.
        skip.set(l.feedId, { until: d.now() + d.errorDelayMs, sweepToo: true });
        return release(l);
      }
      if (end.kind === 'retry') {
        l.phase = 'waiting';
        return setTimer(l, Math.max(0, end.at.getTime() - d.now()), 'waiting', () => track(run(l)));
      }
      // A NOTIFY that came during the round may be for a SET the round's last read missed.
      if (l.woken) continue;
      l.phase = 'idle';
      return setTimer(l, d.idleReleaseMs, 'idle', () => track(release(l)));
    }
  }

  /** The lease went while a round ran: nothing to release. A wake meanwhile is tried anew. */
  function forget(l: Loop): void {
    if (mine(l)) loops.delete(l.feedId);
    if (l.woken && !stopped) wake(l.feedId, 'notify');
  }

  async function release(l: Loop): Promise<void> {
    l.phase = 'releasing';
    l.woken = false;
    if (!leaseGone(l)) await d.lease.release(l.feedId).catch(() => {});
    if (mine(l)) loops.delete(l.feedId);
    // A SET that committed while the lease was being given up: other processes may have tried the
    // lease before it was free, so this one serves it.
    if (l.woken && !stopped) wake(l.feedId, 'notify');
  }

  return {
    wake,
    leasesLost() {
      for (const l of [...loops.values()]) {
        if (l.phase !== 'idle' && l.phase !== 'waiting') continue; // the others end on their own
        l.cancel?.();
        l.cancel = undefined;
        loops.delete(l.feedId);
      }
    },
    serving: () => [...loops.keys()],
    async stop() {
      stopped = true;
      for (const l of loops.values()) {
        l.cancel?.();
        l.cancel = undefined;
      }
      while (busy.size > 0) await Promise.allSettled([...busy]);
      loops.clear();
    },
  };
}
