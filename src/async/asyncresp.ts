import { setClaims, type SubId } from '../events/claims.js';
import { EVENT, txnFor, type TxnRef } from '../events/uris.js';
import { asyncRespChange } from '../feeds/outbox.js';
import type { PublisherDeps } from '../feeds/publish.js';
import type { ResourceTypeName } from '../scim/resource-types.js';
import type { Storage, TxnOpRow, TxnRow } from '../storage/index.js';
import type { OperationResult } from '../provisioning/operation.js';

export const statusUrl = (baseUrl: string, txnId: string) => `${baseUrl}/scim/v2/AsyncRequests/${txnId}`;

export interface RecordedOp {
  readonly index: number;
  readonly type: ResourceTypeName;
  readonly result: OperationResult;
}

/**
 * Record one operation's result with its misc:asyncresp, in the caller's transaction: one SET kept
 * with the transaction (retrievable at the Location with Accept: application/secevent+jwt) and one
 * outbox row, from which the fan-out signs a SET for each of the requester's streams that delivers
 * asyncresp, each with its own jti (RFC 9967 §2.5.1).
 * Returns false when the operation already had a result (a retried job).
 */
export async function recordResult(
  d: PublisherDeps & { baseUrl: string },
  s: Storage,
  txn: TxnRow,
  index: number,
  type: ResourceTypeName,
  r: OperationResult,
): Promise<boolean> {
  return (await recordResults(d, s, txn, [{ index, type, result: r }])).has(index);
}

/**
 * Many results of one transaction at once (a bulk batch): results and outbox rows are stored in
 * multi-row statements. Returns the indexes newly recorded; an
 * operation that already had a result (a retried job) gets no second asyncresp.
 */
export async function recordResults(d: PublisherDeps & { baseUrl: string }, s: Storage, txn: TxnRow, ops: readonly RecordedOp[]): Promise<Set<number>> {
  const now = d.clock.now();
  const prepared = await Promise.all(ops.map(async ({ index, type, result }) => ({ index, ...(await resultRecord(d, s, txn, index, type, result, now)) })));
  const inserted = await s.txns.recordOps(txn.id, prepared.map((p) => p.row), now);
  if (inserted.size > 0) await s.changes.insert(prepared.filter((p) => inserted.has(p.index)).map((p) => p.change));
  return inserted;
}

/**
 * One operation's result row with its own asyncresp SET, and the outbox row from which the fan-out
 * signs the copies for the requester's streams, after the commit (feeds/fanout.ts).
 */
async function resultRecord(d: PublisherDeps & { baseUrl: string }, s: Storage, txn: TxnRow, index: number, type: ResourceTypeName, r: OperationResult, now: Date) {
  const ref: TxnRef = txn.kind === 'bulk' ? { base: txn.id, index } : { base: txn.id };
  const change = asyncRespChange(r, type, ref, txn.owner, now, d.ids.uuid());
  const jti = d.ids.jti(now);
  const own = setClaims({ iss: d.iss, aud: statusUrl(d.baseUrl, txn.id), jti, txn: txnFor('rfc9967', ref), now, profile: 'rfc9967' }, change.subject as SubId, EVENT.asyncResp, change.data as Record<string, unknown>);
  const setJws = await d.sign(own, { storage: s });
  const row: TxnOpRow = {
    txnId: txn.id,
    opIndex: index,
    method: r.method,
    bulkId: r.bulkId ?? null,
    status: r.status,
    location: r.location ?? null,
    version: r.version ?? null,
    response: (r.response as object | undefined) ?? null,
    jti,
    setJws,
    sets: null,
    doneAt: now,
  };
  return { row, change };
}

/**
 * The results of several single requests that ran together, with their asyncresp SETs and the
 * end of each request, in the caller's transaction. The caller holds their row locks and has
 * checked that none had a result yet.
 */
export async function recordSinglesDone(d: PublisherDeps & { baseUrl: string }, s: Storage, done: readonly { txn: TxnRow; type: ResourceTypeName; result: OperationResult }[]): Promise<void> {
  const now = d.clock.now();
  const prepared = await Promise.all(done.map(({ txn, type, result }) => resultRecord(d, s, txn, 0, type, result, now)));
  await s.txns.recordAndFinish(prepared.map((p) => p.row), now);
  await s.changes.insert(prepared.map((p) => p.change));
}
