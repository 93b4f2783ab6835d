import { badRequest } from '../core/errors.js';
import type { Storage } from '../storage/index.js';
import { PUSH } from './stream-config.js';
import { loadStream, type StreamsCtx } from './streams.js';
import { isObject } from '../core/is-object.js';
import type { RequeueSelector } from '../core/requeue-selector.js';

/**
 * The operator's view of a stream: where its SETs stand, the dead letters with their
 * errors, redrive of dead SETs and replay of finished ones. Requeued SETs keep their bytes, `jti`
 * and commit position. Used by the /ssf/streams/{id}/… routes (owner-scoped) and by the CLI
 * (`owner` undefined: any stream).
 */
export type OperatorCtx = Pick<StreamsCtx, 'storage' | 'clock'>;

export async function streamStats(ctx: OperatorCtx, owner: string | undefined, id: string) {
  const f = await loadStream(ctx, owner, id);
  const at = ctx.clock.now();
  const [{ counts, deliveredPerMinute: perMinute }, health] = await Promise.all([
    ctx.storage.events.countsAndDeliveredPerMinute(f.id, at),
    ctx.storage.events.health(f.id),
  ]);
  const now = at.getTime();
  return {
    stream_id: f.id,
    status: f.status,
    ...(f.statusReason ? { reason: f.statusReason } : {}),
    delivery_method: f.deliveryMethod,
    profile: f.profile,
    counts,
    /** What the receiver has yet to take: the pending SETs. */
    backlog: counts.pending ?? 0,
    /** Delivered (pushed or acknowledged) per minute over the last hour, oldest minute first, the current one last. */
    delivered_per_minute: perMinute,
    oldest_pending_age_seconds: health.oldestPendingAt ? Math.max(0, Math.round((now - health.oldestPendingAt.getTime()) / 1000)) : null,
    last_error: health.lastError
      ? { jti: health.lastError.jti, state: health.lastError.state, err: health.lastError.code ?? undefined, description: health.lastError.description, at: health.lastError.at?.toISOString() }
      : null,
  };
}

export async function deadLetters(ctx: OperatorCtx, owner: string | undefined, id: string, limit: number) {
  const f = await loadStream(ctx, owner, id);
  const rows = await ctx.storage.events.dead(f.id, Math.min(Math.max(1, limit), 1000));
  return {
    stream_id: f.id,
    sets: rows.map((r) => ({
      jti: r.jti,
      txn: r.txn,
      event: r.eventUri,
      subject: r.subjectUri,
      err: r.errCode,
      description: r.errDescription,
      attempts: r.attempts,
      created_at: r.createdAt.toISOString(),
      failed_at: r.doneAt?.toISOString() ?? null,
    })),
  };
}

export type { RequeueSelector };

async function rangeOf(s: Storage, feedId: string, body: unknown) {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'the body must be a JSON object with jti, from_jti/to_jti, since or all');
  const b = body as RequeueSelector;
  const jtis = b.jti === undefined ? undefined : Array.isArray(b.jti) ? b.jti : [b.jti];
  if (jtis && !jtis.every((j) => typeof j === 'string' && j !== '')) throw badRequest('invalidValue', 'jti must be a string or an array of strings');
  const seq = async (name: string, jti: unknown) => {
    if (jti === undefined) return undefined;
    if (typeof jti !== 'string') throw badRequest('invalidValue', `${name} must be a string`);
    const n = await s.events.seqOf(feedId, jti);
    if (n === undefined) throw badRequest('invalidValue', `${name} ${jti} is not a SET of this stream`);
    return n;
  };
  const fromSeq = await seq('from_jti', b.from_jti);
  const toSeq = await seq('to_jti', b.to_jti);
  let since: Date | undefined;
  if (b.since !== undefined) {
    since = typeof b.since === 'string' ? new Date(b.since) : new Date(NaN);
    // Years beyond 9999 parse in JS but not in PostgreSQL (a 500 without this check).
    const year = since.getUTCFullYear();
    if (Number.isNaN(since.getTime()) || year < 1 || year > 9999) throw badRequest('invalidValue', 'since must be an RFC 3339 date-time');
  }
  const chosen = [jtis, fromSeq ?? toSeq, since].filter((x) => x !== undefined).length;
  if (chosen === 0 && b.all !== true) throw badRequest('invalidValue', 'say which SETs: jti, from_jti/to_jti, since, or all: true');
  if (chosen > 0 && b.all === true) throw badRequest('invalidValue', 'all: true cannot be combined with a selection');
  return { jtis, fromSeq, toSeq, since };
}

async function requeue(ctx: OperatorCtx, owner: string | undefined, id: string, body: unknown, states: ('dead' | 'delivered' | 'acked')[]) {
  const f = await loadStream(ctx, owner, id);
  return ctx.storage.withTx(async (s) => {
    // Requeued now: their retention restarts, so an old SET is not expired again at the next prune.
    const n = await s.events.requeue(f.id, states, await rangeOf(s, f.id, body), ctx.clock.now());
    // A push stream sends them at once if it is enabled (the NOTIFY at commit wakes its loop in a
    // worker, also when the CLI requeues); a poll stream serves them on the next poll.
    if (n > 0 && f.deliveryMethod === PUSH && f.status === 'enabled') await s.events.notify(f.id);
    return n;
  });
}

/** Dead-lettered SETs back to pending (after the receiver was fixed). */
export async function redrive(ctx: OperatorCtx, owner: string | undefined, id: string, body: unknown) {
  return { stream_id: id, redriven: await requeue(ctx, owner, id, body, ['dead']) };
}

/** Delivered or acknowledged SETs sent again (a receiver lost its store). */
export async function replay(ctx: OperatorCtx, owner: string | undefined, id: string, body: unknown) {
  return { stream_id: id, replayed: await requeue(ctx, owner, id, body, ['delivered', 'acked']) };
}
