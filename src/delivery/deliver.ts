import type { AppMetrics } from '../core/app-metrics.js';
import type { Clock } from '../core/clock.js';
import type { EventRow, Storage } from '../storage/index.js';
import type { PushOutcome } from './classify.js';
import { nextDelayMs, retryDelayMs } from './backoff.js';
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
  /** Consecutive non-RFC answers (200, 204, 3xx …) to one SET before the stream is disabled. */
  readonly misbehavingLimit: number;
  readonly backoff: { baseMs: number; capMs: number };
  readonly random: () => number;
  /** Push attempts by outcome, commit-to-202 latency, rejections (issue 7 §6). */
  readonly metrics?: Pick<AppMetrics, 'pushAnswered'> | undefined;
  /**
   * The operator's record of a transport failure with its error code, which the stream's owner
   * only sees in generic words (classify.ts).
   */
  readonly logTransportError?: ((entry: { stream: string; code: string }) => void) | undefined;
}

/**
 * Push a feed's pending SETs in commit order until the queue is empty or an outcome says stop.
 * One SET is in flight by default (issue 7 §3); a stream's `max_in_flight` allows a window of
 * several for receivers that do not need order. Retries are scheduled, not slept: the job returns,
 * and the next one starts at the backoff time; the head SET's attempt count drives the delay.
 * Accepted SETs are marked delivered together, at the end of each batch and before any other
 * outcome is recorded, so the stored state never shows a later SET settled before an earlier one.
 */
export async function deliverFeed(d: PushDeps, feedId: string): Promise<void> {
  const feed = await d.storage.feeds.get(feedId);
  if (!feed || feed.status !== 'enabled' || feed.deliveryMethod !== 'urn:ietf:rfc:8935' || !feed.endpointUrl) return;
  const target = { url: feed.endpointUrl, authorization: feed.authorizationHeader };
  const window = Math.max(1, feed.maxInFlight);
  const accepted: number[] = [];
  const flush = async () => {
    if (accepted.length === 0) return;
    await d.storage.events.markDelivered(accepted.splice(0), d.clock.now());
  };
  try {
    for (;;) {
      const batch = await d.storage.events.pending(feedId, d.batch);
      if (batch.length === 0) return;
      for (let i = 0; i < batch.length; i += window) {
        const slice = batch.slice(i, i + window);
        const outcomes = await Promise.all(slice.map((ev) => d.client.push(target, ev.jws, () => d.clock.now())));
        let stopped = false;
        // Outcomes are settled in commit order; after the first stop, later failures only count.
        for (const [k, ev] of slice.entries()) {
          const out = outcomes[k]!;
          d.metrics?.pushAnswered(feedId, out, ev.createdAt, d.clock.now());
          if (out.kind === 'delivered') {
            accepted.push(ev.seq);
            continue;
          }
          await flush();
          stopped = (await settle(d, feedId, ev, out, stopped)) || stopped;
        }
        if (stopped) return;
      }
      await flush();
    }
  } finally {
    // A job that fails half way still records what the receiver accepted (best effort: a lost
    // mark means the same SET is sent again, which at-least-once delivery allows).
    await flush().catch(() => {});
  }
}

/** Record one push outcome other than delivered; returns true when delivery must stop for now. */
async function settle(d: PushDeps, feedId: string, ev: EventRow, out: Exclude<PushOutcome, { kind: 'delivered' }>, alreadyStopped: boolean): Promise<boolean> {
  const now = d.clock.now();
  switch (out.kind) {
    case 'rejected':
      await d.storage.events.markDead(feedId, ev.jti, out.err, out.description, now);
      return false;
    case 'pause':
      await d.storage.events.noteAttempt(ev.seq, out.reason);
      if (!alreadyStopped) await d.setStreamStatus(feedId, 'paused', out.reason);
      return true;
    case 'misbehaving': {
      // The limit counts this SET's consecutive misbehaving answers only: earlier 5xx or timeouts
      // (which reset the run) do not bring the stream closer to being disabled (issue 7 §2).
      // The backoff still grows with every attempt.
      const { attempts, misbehavingStreak } = await d.storage.events.noteAttempt(ev.seq, out.reason, { misbehaving: true });
      if (alreadyStopped) return true;
      if (misbehavingStreak >= d.misbehavingLimit) await d.setStreamStatus(feedId, 'disabled', out.reason);
      else await d.schedule(feedId, new Date(now.getTime() + nextDelayMs(attempts, { ...d.backoff, random: d.random })));
      return true;
    }
    case 'retry': {
      if (out.cause) d.logTransportError?.({ stream: feedId, code: out.cause });
      const { attempts } = await d.storage.events.noteAttempt(ev.seq, out.reason);
      if (!alreadyStopped) await d.schedule(feedId, new Date(now.getTime() + retryDelayMs(out.retryAfterMs, attempts, { ...d.backoff, random: d.random })));
      return true;
    }
  }
}
