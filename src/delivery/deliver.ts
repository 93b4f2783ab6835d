import type { AppMetrics } from '../core/app-metrics.js';
import type { Clock } from '../core/clock.js';
import { PUSH_METHOD } from '../core/delivery-methods.js';
import type { FeedRow, PushItem, Storage } from '../storage/index.js';
import type { PushOutcome } from './classify.js';
import { nextDelayMs, retryDelayMs } from './backoff.js';
import type { PushClient } from './push.js';

export interface PushDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly client: PushClient;
  /** Pause or disable a stream with a reason (emits stream-updated, OpenID SSF 1.0 §8.1.5). */
  readonly setStreamStatus: (feedId: string, status: 'paused' | 'disabled', reason: string) => Promise<void>;
  readonly batch: number;
  /** Consecutive non-RFC answers (200, 204, 3xx …) to one SET before the stream is disabled. */
  readonly misbehavingLimit: number;
  readonly backoff: { baseMs: number; capMs: number };
  readonly random: () => number;
  /** Push attempts by outcome, commit-to-202 latency, rejections (Prometheus, /metrics). */
  readonly metrics?: Pick<AppMetrics, 'pushAnswered'> | undefined;
  /**
   * The operator's record of a transport failure with its error code, which the stream's owner
   * only sees in generic words (classify.ts).
   */
  readonly logTransportError?: ((entry: { stream: string; code: string }) => void) | undefined;
  /**
   * Per-request callback feeds (feeds.callback_txn, async/callback.ts) are pushed like streams,
   * with three differences: a SET is retried at most `maxAttempts` times before it goes to the
   * dead letter (nobody would redrive it); an answer that would pause or disable a stream ends
   * the callback instead (`abandon`: nobody would resume it); and after each round the callback
   * is ended once every SET of its request is delivered or dead (`settle`).
   */
  readonly callbacks?: CallbackHooks | undefined;
}

export interface CallbackHooks {
  readonly maxAttempts: number;
  settle(feed: FeedRow): Promise<unknown>;
  abandon(feed: FeedRow, reason: string): Promise<void>;
}

/**
 * How a delivery round ended: the queue was `drained`; delivery `halted` (the stream is paused,
 * disabled, gone or no longer push, or an answer just paused or disabled it); a transient failure
 * asks to `retry` the head SET at `at` (RFC 8935 §4 retry with backoff, or the receiver's Retry-After); or the
 * caller `interrupted` it (shutdown, lost lease).
 */
export type RoundEnd = { kind: 'drained' } | { kind: 'halted' } | { kind: 'retry'; at: Date } | { kind: 'interrupted' };

type Stop = Exclude<RoundEnd, { kind: 'drained' } | { kind: 'interrupted' }>;

/**
 * Push a feed's pending SETs in commit order until the queue is empty or an outcome says stop.
 * One SET is in flight by default, so a receiver sees a stream's SETs in commit order (RFC 8417
 * §5.3 leaves ordering to the profile, and provisioning is order-sensitive); a stream's
 * `max_in_flight` allows a window of several for receivers that do not need order. Retries are
 * not slept here: the round returns when to try again, and the caller (push-loop.ts) runs the
 * next round then; the head SET's attempt count drives the delay. `interrupted` is asked before
 * each window is sent, so a caller that lost the stream's lease sends nothing more. Accepted SETs
 * are marked delivered together, at the end of each batch and before any other outcome is
 * recorded, so the stored state never shows a later SET settled before an earlier one. Delivery
 * is at least once: docs/decisions/0007-at-least-once-push.md.
 */
export async function deliverFeed(d: PushDeps, feedId: string, interrupted: () => boolean = () => false): Promise<RoundEnd> {
  const feed = await d.storage.feeds.get(feedId);
  if (!feed || feed.status !== 'enabled' || feed.deliveryMethod !== PUSH_METHOD || !feed.endpointUrl) return { kind: 'halted' };
  const target = { url: feed.endpointUrl, authorization: feed.authorizationHeader };
  const drained = async (): Promise<RoundEnd> => {
    if (feed.callbackTxn) {
      await flush();
      await d.callbacks?.settle(feed);
    }
    return { kind: 'drained' };
  };
  const window = Math.max(1, feed.maxInFlight);
  const accepted: number[] = [];
  const flush = async () => {
    if (accepted.length === 0) return;
    await d.storage.events.markDelivered(accepted.splice(0), d.clock.now());
  };
  try {
    for (;;) {
      if (interrupted()) return { kind: 'interrupted' };
      const batch = await d.storage.events.pushPage(feedId, d.batch);
      if (batch.length === 0) return drained();
      for (let i = 0; i < batch.length; i += window) {
        if (interrupted()) return { kind: 'interrupted' };
        const slice = batch.slice(i, i + window);
        const outcomes = await Promise.all(slice.map((ev) => d.client.push(target, ev.jws, () => d.clock.now())));
        let stop: Stop | undefined;
        // Outcomes are settled in commit order; after the first stop, later failures only count.
        for (const [k, ev] of slice.entries()) {
          const out = outcomes[k]!;
          d.metrics?.pushAnswered(feedId, out, ev.createdAt, d.clock.now());
          if (out.kind === 'delivered') {
            accepted.push(ev.seq);
            continue;
          }
          await flush();
          const s = await settle(d, feed, ev, out, stop !== undefined);
          stop ??= s;
        }
        if (stop) return stop;
      }
      await flush();
      // A short page was the whole queue when it was read. A SET committed since then sent a
      // NOTIFY, which starts another round (push-loop.ts), so reading again here would only
      // cost every round a statement that finds nothing.
      if (batch.length < d.batch) return drained();
    }
  } finally {
    // A round that fails half way still records what the receiver accepted (best effort: a lost
    // mark means the same SET is sent again, which at-least-once delivery allows).
    await flush().catch(() => {});
  }
}

/** Record one push outcome other than delivered; returns how delivery stops for now, if it does. */
async function settle(d: PushDeps, feed: FeedRow, ev: PushItem, out: Exclude<PushOutcome, { kind: 'delivered' }>, alreadyStopped: boolean): Promise<Stop | undefined> {
  const now = d.clock.now();
  const feedId = feed.id;
  const callback = feed.callbackTxn && d.callbacks ? d.callbacks : undefined;
  // A callback's SET failed once more: at its last attempt it goes to the dead letter, and
  // delivery goes on with the next one.
  const givenUp = async (attempts: number): Promise<boolean> => {
    if (!callback || attempts < callback.maxAttempts) return false;
    await d.storage.events.markDead(feedId, ev.jti, 'undeliverable', `not delivered after ${attempts} attempts; the last: ${'reason' in out ? out.reason : 'failed'}`, now);
    return true;
  };
  switch (out.kind) {
    case 'rejected':
      await d.storage.events.markDead(feedId, ev.jti, out.err, out.description, now, { attempted: true });
      return undefined;
    case 'pause':
      await d.storage.events.noteAttempt(ev.seq, out.reason);
      if (alreadyStopped) return { kind: 'halted' };
      if (callback) await callback.abandon(feed, out.reason);
      else await d.setStreamStatus(feedId, 'paused', out.reason);
      return { kind: 'halted' };
    case 'misbehaving': {
      // The limit counts this SET's consecutive misbehaving answers only: earlier 5xx or timeouts
      // (which reset the run) do not bring the stream closer to being disabled: a receiver that
      // was down for a while is not mistaken for one that answers wrongly.
      // The backoff still grows with every attempt.
      const { attempts, misbehavingStreak } = await d.storage.events.noteAttempt(ev.seq, out.reason, { misbehaving: true });
      if (alreadyStopped) return { kind: 'halted' };
      if (misbehavingStreak >= d.misbehavingLimit) {
        if (callback) await callback.abandon(feed, out.reason);
        else await d.setStreamStatus(feedId, 'disabled', out.reason);
        return { kind: 'halted' };
      }
      if (await givenUp(attempts)) return undefined;
      return { kind: 'retry', at: new Date(now.getTime() + nextDelayMs(attempts, { ...d.backoff, random: d.random })) };
    }
    case 'retry': {
      if (out.cause) d.logTransportError?.({ stream: feedId, code: out.cause });
      const { attempts } = await d.storage.events.noteAttempt(ev.seq, out.reason);
      if (alreadyStopped) return { kind: 'halted' };
      if (await givenUp(attempts)) return undefined;
      return { kind: 'retry', at: new Date(now.getTime() + retryDelayMs(out.retryAfterMs, attempts, { ...d.backoff, random: d.random })) };
    }
  }
}
