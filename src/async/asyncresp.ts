import { asyncRespPayload, scimSubId, setClaims } from '../events/claims.js';
import { EVENT, txnFor, type EventProfile, type TxnRef } from '../events/uris.js';
import { storeSets, type PublisherDeps } from '../feeds/publish.js';
import { ENDPOINTS, type ResourceTypeName } from '../provisioning/context.js';
import type { Storage, TxnRow } from '../storage/index.js';
import type { OperationResult } from './operation.js';

export const statusUrl = (baseUrl: string, txnId: string) => `${baseUrl}/scim/v2/AsyncRequests/${txnId}`;

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
  const ref: TxnRef = txn.kind === 'bulk' ? { base: txn.id, index } : { base: txn.id };
  const payload = asyncRespPayload(r);
  const subId = r.resourceId ? scimSubId(`${ENDPOINTS[type]}/${r.resourceId}`, r.resourceId) : scimSubId(ENDPOINTS[type]);
  const now = d.clock.now();
  const jti = d.ids.jti(now);
  const own = setClaims({ iss: d.iss, aud: statusUrl(d.baseUrl, txn.id), jti, txn: txnFor('rfc9967', ref), now, profile: 'rfc9967' }, subId, EVENT.asyncResp, payload);
  const setJws = await d.sign(own);
  const inserted = await s.txns.recordOp({
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
  });
  if (!inserted) return false;
  const feeds = (await s.feeds.listByOwner(txn.owner)).filter((f) => f.status !== 'disabled' && f.eventsDelivered.includes(EVENT.asyncResp));
  await storeSets(
    d,
    s,
    feeds.map((feed) => ({
      feed,
      subjectUri: subId.uri,
      canonicalUri: EVENT.asyncResp,
      build: ({ jti: j, now: n }) =>
        setClaims({ iss: d.iss, aud: feed.aud, jti: j, txn: txnFor(feed.profile as EventProfile, ref), now: n, profile: feed.profile as EventProfile }, subId, EVENT.asyncResp, payload),
    })),
  );
  return true;
}
