import type { Clock } from '../core/clock.js';
import type { Storage } from '../storage/index.js';
import { nextDelayMs } from './backoff.js';
import type { PushClient } from './push.js';

export const DELIVER_TASK = 'deliver_push';

export interface PushDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly client: PushClient;
  /** Pause or disable a stream with a reason (emits stream-updated, SSF-6). */
  readonly setStreamStatus: (feedId: string, status: 'paused' | 'disabled', reason: string) => Promise<void>;
  /** Run this feed's delivery again at `runAt`. */
  readonly schedule: (feedId: string, runAt: Date) => Promise<void>;
  readonly batch: number;
  /** Consecutive non-RFC answers (200, 204, 3xx …) before the stream is disabled. */
  readonly misbehavingLimit: number;
  readonly backoff: { baseMs: number; capMs: number };
  readonly random: () => number;
}

/**
 * Push a feed's pending SETs in commit order, one in flight (issue 7 §3), until the queue is empty
 * or an outcome says stop. Retries are scheduled, not slept: the job returns, and the next one
 * starts at the backoff time; the head SET's attempt count drives the delay.
 */
export async function deliverFeed(d: PushDeps, feedId: string): Promise<void> {
  const feed = await d.storage.feeds.get(feedId);
  if (!feed || feed.status !== 'enabled' || feed.deliveryMethod !== 'urn:ietf:rfc:8935' || !feed.endpointUrl) return;
  const target = { url: feed.endpointUrl, authorization: feed.authorizationHeader };
  for (;;) {
    const batch = await d.storage.events.pending(feedId, d.batch);
    if (batch.length === 0) return;
    for (const ev of batch) {
      const out = await d.client.push(target, ev.jws, () => d.clock.now());
      const now = d.clock.now();
      switch (out.kind) {
        case 'delivered':
          await d.storage.events.markDelivered(ev.seq, now);
          break;
        case 'rejected':
          await d.storage.events.markDead(feedId, ev.jti, out.err, out.description, now);
          break;
        case 'pause':
          await d.storage.events.noteAttempt(ev.seq, out.reason);
          await d.setStreamStatus(feedId, 'paused', out.reason);
          return;
        case 'misbehaving': {
          const attempts = await d.storage.events.noteAttempt(ev.seq, out.reason);
          if (attempts >= d.misbehavingLimit) {
            await d.setStreamStatus(feedId, 'disabled', out.reason);
            return;
          }
          await d.schedule(feedId, new Date(now.getTime() + nextDelayMs(attempts, { ...d.backoff, random: d.random })));
          return;
        }
        case 'retry': {
          const attempts = await d.storage.events.noteAttempt(ev.seq, out.reason);
          const delay = out.retryAfterMs ?? nextDelayMs(attempts, { ...d.backoff, random: d.random });
          await d.schedule(feedId, new Date(now.getTime() + delay));
          return;
        }
      }
    }
  }
}
