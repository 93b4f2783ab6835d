import type { Clock } from '../core/clock.js';
import { callbackFeedId } from '../core/ids.js';
import type { CallbackHooks } from '../delivery/deliver.js';
import type { EventRow, FeedRow, Storage, TxnRow } from '../storage/index.js';

/**
 * The end of a per-request callback (async/callback.ts). Its push feed gets exactly one asyncresp
 * SET per operation of its request (one result per operation, one SET per result), so it is over
 * once that many are delivered or dead. Then how it went is kept with the request, for the
 * status resource, and the feed and its SETs are removed: nothing of a callback stays beyond its
 * request's own retention (the feed also goes with the request, by foreign key).
 */

/** A dead-lettered SET of a callback, as the status resource shows it. */
export interface CallbackDeadLetter {
  txn: string;
  jti: string;
  err: string | null;
  description: string | null;
  attempts: number;
  failed_at: string | null;
}

/**
 * Where a callback stands, in the async status resource: `pending` while SETs are still to be
 * delivered, `delivered` once every one was accepted, `failed` once it ended with dead letters
 * (a receiver that rejected SETs, kept failing, or refused the server's requests altogether).
 */
export interface CallbackState {
  status: 'pending' | 'delivered' | 'failed';
  delivered: number;
  dead: number;
  pending: number;
  /** Why the callback stopped before its last SET, when it did (a 401, a misbehaving receiver). */
  error?: string | undefined;
  /** The last failed attempt while pending. */
  last_error?: string | undefined;
  dead_letters: CallbackDeadLetter[];
}

/** Dead letters kept with the request: a bulk has at most SCIMCAST_BULK_MAX_OPERATIONS of them. */
const DEAD_LETTERS_KEPT = 10_000;

const deadLetter = (r: EventRow): CallbackDeadLetter => ({
  txn: r.txn,
  jti: r.jti,
  err: r.errCode,
  description: r.errDescription,
  attempts: r.attempts,
  failed_at: r.doneAt?.toISOString() ?? null,
});

async function stateOf(s: Storage, feedId: string, error?: string): Promise<CallbackState> {
  const counts = await s.events.countsByState(feedId);
  const dead = counts.dead ?? 0;
  const pending = counts.pending ?? 0;
  const letters = dead > 0 ? (await s.events.dead(feedId, DEAD_LETTERS_KEPT)).map(deadLetter) : [];
  const status = pending > 0 ? 'pending' : dead > 0 || error ? 'failed' : 'delivered';
  return { status, delivered: (counts.delivered ?? 0) + (counts.acked ?? 0), dead, pending, ...(error ? { error } : {}), dead_letters: letters };
}

/**
 * After a delivery round: if every SET of the request is delivered or dead, record the outcome
 * and remove the feed. Returns whether it ended.
 */
export async function settleCallback(d: { storage: Storage }, feed: Pick<FeedRow, 'id' | 'callbackTxn'>): Promise<boolean> {
  if (!feed.callbackTxn) return false;
  const txnId = feed.callbackTxn;
  return d.storage.withTx(async (s) => {
    const txn = await s.txns.get(txnId);
    const state = await stateOf(s, feed.id);
    if (txn && (state.pending > 0 || state.delivered + state.dead < txn.opCount)) return false;
    if (txn) await s.txns.endCallback(txn.id, state);
    return s.feeds.delete(feed.id);
  });
}

/**
 * The receiver refused the server (401, 403, another 4xx) or kept answering outside RFC 8935:
 * a stream would be paused or disabled for its owner to look at, but a callback has nobody to
 * resume it. It ends at once: its pending SETs go to the dead letter with the reason, the outcome
 * is kept with the request, and the feed is removed, so the request's later results are not sent.
 */
export async function abandonCallback(d: { storage: Storage; clock: Clock }, feed: Pick<FeedRow, 'id' | 'callbackTxn'>, reason: string): Promise<void> {
  if (!feed.callbackTxn) return;
  const txnId = feed.callbackTxn;
  await d.storage.withTx(async (s) => {
    await s.events.markPendingDead(feed.id, 'abandoned', `the callback was ended: ${reason}`, d.clock.now());
    await s.txns.endCallback(txnId, await stateOf(s, feed.id, reason));
    await s.feeds.delete(feed.id);
  });
}

/**
 * The callback member of a request's status resource: how it ended, or, while it runs, read
 * from its feed. Undefined for a request without a callback.
 */
export async function callbackStatus(storage: Storage, txn: TxnRow): Promise<CallbackState | undefined> {
  if (txn.callback === null) return undefined;
  if (txn.callbackState) return txn.callbackState as CallbackState;
  const id = callbackFeedId(txn.id);
  const [state, health] = await Promise.all([stateOf(storage, id), storage.events.health(id)]);
  // The feed may have ended between the two reads: the stored outcome is the one to show then.
  const ended = (await storage.txns.get(txn.id))?.callbackState;
  if (ended) return ended as CallbackState;
  return { ...state, status: 'pending', ...(health.lastError && health.lastError.state === 'pending' ? { last_error: health.lastError.description } : {}) };
}

/** What push delivery does differently for callback feeds (delivery/deliver.ts), on `storage`. */
export function callbackHooks(d: { storage: Storage; clock: Clock }, maxAttempts: number): CallbackHooks {
  return {
    maxAttempts,
    settle: (feed) => settleCallback(d, feed),
    abandon: (feed, reason) => abandonCallback(d, feed, reason),
  };
}
