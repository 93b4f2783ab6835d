import { asyncRespPayload, scimSubId, type SubId } from '../events/claims.js';
import { EVENT, type TxnRef } from '../events/uris.js';
import type { Change } from '../provisioning/outcome.js';
import { redactPatchOp } from '../scim/patch/redact.js';
import { ENDPOINTS, resourcePath, type ResourceTypeName } from '../scim/resource-types.js';
import type { NewChange } from '../storage/index.js';
import { candidateEvents } from './targets.js';

/** What a prov:* SET's payload is built from (events/claims.ts provPayload). */
export interface ProvData {
  readonly data?: unknown;
  readonly attributes: readonly string[];
  readonly version?: string | undefined;
}

/**
 * The `data` of a :full event (RFC 9967 §2.4): the representation after a create or put, which
 * already leaves out `returned: never` attributes (provisioning/representation.ts), or the PatchOp
 * without their values (scim/patch/redact.ts). Undefined when a PATCH changed only such attributes.
 */
function fullData(change: Change): unknown {
  return change.kind === 'patch' ? redactPatchOp(change.type, change.patchOp) : change.after;
}

/**
 * The outbox row of one resource change: its subject, the event URIs it can produce and the
 * payload data, redacted; no stream is named, the fan-out routes it after the commit.
 */
export function provChange(change: Change, txn: TxnRef, at: Date, id: string): NewChange {
  const subjectUri = resourcePath(change.type, change.id);
  const resource = change.after ?? change.before;
  const data = fullData(change);
  // No valid PatchOp is left to carry (RFC 7644 §3.5.2 needs one operation): no patch:full SET.
  const uris = candidateEvents(change).filter((u) => !(u === EVENT.patchFull && data === undefined));
  const prov: ProvData = { data, attributes: change.attributes, version: change.after?.meta.version as string | undefined };
  return {
    id,
    kind: 'prov',
    resourceType: change.type,
    subjectUri,
    subject: scimSubId(subjectUri, change.id, resource?.externalId),
    uris,
    txnBase: txn.base,
    opIndex: txn.index ?? null,
    owner: null,
    feedId: null,
    data: prov,
    createdAt: at,
  };
}

/** An asynchronous operation's result, for the misc:asyncresp SETs of the requester's streams (RFC 9967 §2.5.1). */
export function asyncRespChange(
  r: Parameters<typeof asyncRespPayload>[0] & { resourceId?: string | undefined },
  type: ResourceTypeName,
  txn: TxnRef,
  owner: string,
  at: Date,
  id: string,
): NewChange {
  // Without a resource (a failed create), the subject is the endpoint (RFC 9967 §2.5.1, Figure 12).
  const subject: SubId = r.resourceId ? scimSubId(resourcePath(type, r.resourceId), r.resourceId) : scimSubId(ENDPOINTS[type]);
  return {
    id,
    kind: 'asyncresp',
    resourceType: type,
    subjectUri: subject.uri,
    subject,
    uris: [EVENT.asyncResp],
    txnBase: txn.base,
    opIndex: txn.index ?? null,
    owner,
    feedId: null,
    data: asyncRespPayload(r),
    createdAt: at,
  };
}

/**
 * An event about one stream (SSF 1.0 §8.1.4 stream updated, §8.1.4.2 verification; RFC 9967
 * §2.3 feed:add / feed:remove), through the outbox like every other SET, so that a stream's SETs
 * keep the order in which what they report committed.
 */
export function streamChange(feedId: string, uri: string, subject: SubId | { format: 'opaque'; id: string }, payload: Record<string, unknown>, txn: string, at: Date, id: string): NewChange {
  return {
    id,
    kind: 'stream',
    resourceType: 'Stream',
    subjectUri: subject.format === 'scim' ? subject.uri : `stream:${feedId}`,
    subject,
    uris: [uri],
    txnBase: txn,
    opIndex: null,
    owner: null,
    feedId,
    data: payload,
    createdAt: at,
  };
}
