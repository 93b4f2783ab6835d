import type { AppMetrics } from '../core/app-metrics.js';
import type { Clock } from '../core/clock.js';
import type { EventNotifier } from '../storage/notify.js';
import type { FeedRow, Storage } from '../storage/index.js';
import type { PollRequest } from './poll-request.js';

export interface PollDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly notifier: EventNotifier;
  /** Default and upper bound of a long poll (POLL-3: agreed out of band). */
  readonly longPollMs: number;
  readonly maxLongPollMs: number;
  /** Largest page when maxEvents is absent ("no limit" still needs a bounded response). */
  readonly pageCap: number;
  /** Counts acks and setErrs dead letters per stream (issue 7 §6). */
  readonly metrics?: Pick<AppMetrics, 'setsAcked' | 'deadLettered'> | undefined;
}

export interface PollResponse {
  sets: Record<string, string>;
  moreAvailable: boolean;
}

/**
 * RFC 8936 §2.4/§2.5 for one stream: apply acks and setErrs first, then return pending SETs
 * oldest first (POLL-8), including earlier unacknowledged ones; with nothing pending and
 * returnImmediately false, wait for the next commit on this stream (POLL-10) or the timeout.
 * A paused or disabled stream transmits nothing but still takes acknowledgements (SSF-6).
 */
export async function poll(d: PollDeps, feed: FeedRow, req: PollRequest, signal?: AbortSignal): Promise<PollResponse> {
  const now = d.clock.now();
  if (req.ack.length > 0) {
    // Only SETs that were still pending count: a repeated ack is not a second acknowledgement.
    const acked = await d.storage.events.ack(feed.id, req.ack, now);
    if (acked > 0) d.metrics?.setsAcked.inc({ stream: feed.id }, acked);
  }
  for (const [jti, e] of Object.entries(req.setErrs)) {
    // spec-digest Q-20: a setErr is terminal for this stream: dead letter with the receiver's reason.
    if (await d.storage.events.markDead(feed.id, jti, e.err, e.description, now)) d.metrics?.deadLettered(feed.id, e.err);
  }
  if (req.maxEvents === 0 || feed.status !== 'enabled') return { sets: {}, moreAvailable: false };
  const limit = Math.min(req.maxEvents ?? d.pageCap, d.pageCap);
  const fetch = async () => {
    const rows = await d.storage.events.pending(feed.id, limit + 1);
    const page = rows.slice(0, limit);
    return { sets: Object.fromEntries(page.map((r) => [r.jti, r.jws])), moreAvailable: rows.length > limit };
  };
  if (req.returnImmediately) return fetch();
  const waitMs = Math.min(req.timeoutSecs !== undefined ? req.timeoutSecs * 1000 : d.longPollMs, d.maxLongPollMs);
  const deadline = Date.now() + waitMs;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      // The waiter is registered before the query: a SET committed in between still wakes us.
      const woke = d.notifier.wait(feed.id, Math.max(0, deadline - Date.now()), stop.signal);
      const res = await fetch();
      if (Object.keys(res.sets).length > 0 || Date.now() >= deadline || stop.signal.aborted) return res;
      if (!(await woke)) return res;
    }
  } finally {
    stop.abort();
    signal?.removeEventListener('abort', onAbort);
  }
}
