import type { FeedLeases, LeaseEvents } from '../storage/feed-leases.js';
import { deliverFeed, type PushDeps } from './deliver.js';
import { makePushLoops } from './push-loop.js';

export interface PushServiceDeps {
  /** Push delivery on the worker's own delivery pool (never the API's, never graphile-worker's). */
  readonly push: PushDeps;
  /** The process's lease connection (storage/feed-leases.ts), opened with the service's callbacks. */
  readonly openLeases: (on: LeaseEvents) => FeedLeases;
  /** The safety sweep's period (SCIMCAST_PUSH_SWEEP_MS). */
  readonly sweepMs: number;
  readonly onError?: ((feedId: string | undefined, e: unknown) => void) | undefined;
}

export interface PushService {
  /** Streams this process serves right now. */
  serving(): string[];
  stop(): Promise<void>;
}

/**
 * RFC 8935 push in a worker process: one loop per stream (push-loop.ts), woken by the NOTIFY each
 * commit of SETs sends (storage.events.insert) within milliseconds, and by the operator's redrive,
 * replay and resume (the same NOTIFY). A slow sweep finds streams with pending SETs that no
 * NOTIFY reached: one sent while the lease connection was reconnecting, or a stream whose serving
 * process died (its lease went with its session).
 */
export function startPushService(d: PushServiceDeps): PushService {
  const sweepMs = d.sweepMs;
  let sweeping = false;
  let stopped = false;
  const loops = makePushLoops({
    lease: { tryAcquire: (f) => leases.tryAcquire(f), release: (f) => leases.release(f), get epoch() { return leases.epoch; } },
    round: (feedId, interrupted) => deliverFeed(d.push, feedId, interrupted),
    now: () => d.push.clock.now().getTime(),
    after: (ms, fn) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
    idleReleaseMs: 30_000,
    heldElsewhereMs: sweepMs,
    errorDelayMs: Math.max(1_000, sweepMs),
    onError: d.onError,
  });
  let inFlight: Promise<void> | undefined;
  const sweep = (): Promise<void> => {
    if (sweeping || stopped) return Promise.resolve();
    sweeping = true;
    inFlight = (async () => {
      try {
        // A lease connection that stopped answering is dropped, so this process stops sending
        // before the database can give its streams to another one.
        await leases.check(Math.max(1_000, sweepMs));
        for (const f of await d.push.storage.events.pushFeedsWithPending()) loops.wake(f, 'sweep');
      } catch (e) {
        // The database is away; the next sweep tries again. A sweep cut short by stop() is not
        // a failure worth a warning: the process is closing its connections.
        if (!stopped) d.onError?.(undefined, e);
      } finally {
        sweeping = false;
      }
    })();
    return inFlight;
  };
  const leases = d.openLeases({
    notify: (feedId) => loops.wake(feedId, 'notify'),
    lost: () => loops.leasesLost(),
    // Listening again (or for the first time): what committed meanwhile sent NOTIFYs nobody heard.
    connected: () => void sweep(),
  });
  const timer = setInterval(() => void sweep(), sweepMs);
  timer.unref();
  return {
    serving: () => loops.serving(),
    async stop() {
      stopped = true;
      clearInterval(timer);
      // A sweep that started before the stop finishes before its connections close.
      await inFlight;
      await loops.stop();
      await leases.close();
    },
  };
}
