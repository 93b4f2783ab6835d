import { asyncRespPayload, scimSubId, setClaims } from '../events/claims.js';
import { EVENT, txnFor, type EventProfile, type TxnRef } from '../events/uris.js';
import { storeSets, type PublisherDeps } from '../feeds/publish.js';
import { ENDPOINTS, type ResourceTypeName } from '../provisioning/context.js';
import type { Storage, TxnRow } from '../storage/index.js';
import type { OperationResult } from './operation.js';

export const statusUrl = (baseUrl: string, txnId: string) => `${baseUrl}/scim/v2/AsyncRequests/${txnId}`;

export interface RecordedOp {
  readonly index: number;
  readonly type: ResourceTypeName;
  readonly result: OperationResult;
}

/**
 * Record one operation's result with its misc:asyncresp SETs, in the caller's transaction:
 * one copy kept with the transaction (retrievable at the Location, ASYNC-10 form a) and one per
 * feed of the requester that delivers asyncresp (spec-digest Q-5), each with its own jti.
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
 * Many results of one transaction at once (a bulk batch): the requester's feeds are read once and
 * the results and SETs stored in multi-row statements. Returns the indexes newly recorded; an
 * operation that already had a result (a retried job) gets no second asyncresp.
 */
export async function recordResults(d: PublisherDeps & { baseUrl: string }, s: Storage, txn: TxnRow, ops: readonly RecordedOp[]): Promise<Set<number>> {
  const now = d.clock.now();
  const prepared = await Promise.all(
    ops.map(async ({ index, type, result: r }) => {
      const ref: TxnRef = txn.kind === 'bulk' ? { base: txn.id, index } : { base: txn.id };
      const payload = asyncRespPayload(r);
      const subId = r.resourceId ? scimSubId(`${ENDPOINTS[type]}/${r.resourceId}`, r.resourceId) : scimSubId(ENDPOINTS[type]);
      const jti = d.ids.jti(now);
      const own = setClaims({ iss: d.iss, aud: statusUrl(d.baseUrl, txn.id), jti, txn: txnFor('rfc9967', ref), now, profile: 'rfc9967' }, subId, EVENT.asyncResp, payload);
      const setJws = await d.sign(own, { storage: s });
      const row = {
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
        doneAt: now,
      };
      return { index, ref, payload, subId, row };
    }),
  );
  const inserted = await s.txns.recordOps(txn.id, prepared.map((p) => p.row), now);
  if (inserted.size === 0) return inserted;
  const feeds = (await s.feeds.listByOwner(txn.owner)).filter((f) => f.status !== 'disabled' && f.eventsDelivered.includes(EVENT.asyncResp));
  await storeSets(
    d,
    s,
    prepared
      .filter((p) => inserted.has(p.index))
      .flatMap((p) =>
        feeds.map((feed) => ({
          feed,
          subjectUri: p.subId.uri,
          canonicalUri: EVENT.asyncResp,
          build: ({ jti: j, now: n }: { jti: string; now: Date }) =>
            setClaims({ iss: d.iss, aud: feed.aud, jti: j, txn: txnFor(feed.profile as EventProfile, p.ref), now: n, profile: feed.profile as EventProfile }, p.subId, EVENT.asyncResp, p.payload),
        })),
      ),
  );
  return inserted;
}
