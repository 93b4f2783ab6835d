import type { AppMetrics } from '../core/app-metrics.js';
import type { Clock } from '../core/clock.js';
import type { EventNotifier } from '../storage/notify.js';
import type { FeedRow, Storage } from '../storage/index.js';
import { pollBody } from './poll-body.js';
import type { PollRequest } from './poll-request.js';

export interface PollDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly notifier: EventNotifier;
  /** Default and upper bound of a long poll (RFC 8936 §2.5 leaves the timeout to the parties). */
  readonly longPollMs: number;
  readonly maxLongPollMs: number;
  /** Largest page when maxEvents is absent ("no limit" still needs a bounded response). */
  readonly pageCap: number;
  /** Counts acks and setErrs dead letters per stream (Prometheus, /metrics). */
  readonly metrics?: Pick<AppMetrics, 'setsAcked' | 'deadLettered'> | undefined;
}

/** An RFC 8936 §2.3 poll response: `body` is its JSON, ready to write; `count` SETs in it. */
export interface PollResponse {
  body: Buffer;
  count: number;
  moreAvailable: boolean;
}

const response = (jtis: readonly string[], sets: readonly string[], more: boolean): PollResponse => ({ body: pollBody(jtis, sets, more), count: jtis.length, moreAvailable: more });

const EMPTY = response([], [], false);

/**
 * RFC 8936 §2.4: acks, then setErrs, one statement each whatever their number. Only SETs that
 * were still pending count: a repeated ack is not a second acknowledgement.
 */
async function settle(d: PollDeps, feed: FeedRow, req: PollRequest, now: Date): Promise<void> {
  if (req.ack.length > 0) {
    const acked = await d.storage.events.ack(feed.id, req.ack, now);
    if (acked > 0) d.metrics?.setsAcked.inc({ stream: feed.id }, acked);
  }
  const errs = Object.entries(req.setErrs).map(([jti, e]) => ({ jti, err: e.err, description: e.description }));
  if (errs.length > 0) {
    // RFC 8936 does not say what a setErr does to the SET; here it is terminal for this stream:
    // dead letter with the receiver's reason, never redelivered.
    for (const err of await d.storage.events.markDeadMany(feed.id, errs, now)) d.metrics?.deadLettered(feed.id, err);
  }
}

/**
 * RFC 8936 §2.4/§2.5 for one stream: apply acks and setErrs first, then return pending SETs
 * oldest first (RFC 8936 §2.4), including earlier unacknowledged ones; with nothing pending and
 * returnImmediately false, wait for the next commit on this stream (RFC 8936 §2.4, long polling) or the timeout.
 * A paused or disabled stream transmits nothing but still takes acknowledgements (SSF 1.0 §8.1.2).
 *
 * The first page is read while the acks and setErrs are written, on another connection, and
 * leaves out every jti they name: acks and setErrs only take SETs out of pending, so that is
 * exactly the page a read after them finds. The answer waits for both, so a client never sees a
 * page before its acknowledgements are committed, and a failed ack fails the request.
 */
export async function poll(d: PollDeps, feed: FeedRow, req: PollRequest, signal?: AbortSignal): Promise<PollResponse> {
  const settled = settle(d, feed, req, d.clock.now());
  if (req.maxEvents === 0 || feed.status !== 'enabled') {
    await settled;
    return EMPTY;
  }
  const limit = Math.min(req.maxEvents ?? d.pageCap, d.pageCap);
  const fetch = async (answered: readonly string[]) => {
    const page = await d.storage.events.pendingPage(feed.id, limit, answered);
    return response(page.jtis, page.jws, page.more);
  };
  const answered = [...req.ack, ...Object.keys(req.setErrs)];
  const first = async () => (await Promise.all([settled, fetch(answered)]))[1];
  if (req.returnImmediately) return first();
  const waitMs = Math.min(req.timeoutSecs !== undefined ? req.timeoutSecs * 1000 : d.longPollMs, d.maxLongPollMs);
  const deadline = Date.now() + waitMs;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort);
  try {
    for (let round = 0; ; round++) {
      // The waiter is registered before the query: a SET committed in between still wakes us.
      const woke = d.notifier.wait(feed.id, Math.max(0, deadline - Date.now()), stop.signal);
      const res = round === 0 ? await first() : await fetch([]);
      if (res.count > 0 || Date.now() >= deadline || stop.signal.aborted) return res;
      if (!(await woke)) return res;
    }
  } finally {
    stop.abort();
    signal?.removeEventListener('abort', onAbort);
  }
}
