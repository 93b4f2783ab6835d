import { EVENT, eventUriFor, type EventProfile } from './uris.js';

/**
 * SET claims (RFC 8417 §2.2, RFC 9967 §2). One event per SET: RFC 8417 §2.2 forbids bundling
 * independent events, and streams subscribe to event types separately. Never `sub` (RFC 9967
 * §2.1) nor `exp` (RFC 8417 §4.1, OpenID SSF 1.0 §4.1.7); `aud` is the one feed the SET is for,
 * so no receiver sees another's audience (SSF 1.0 §4.1).
 */
export interface SubId {
  format: 'scim';
  uri: string;
  id?: string;
  externalId?: string;
}

export interface SetClaims {
  iss: string;
  iat: number;
  jti: string;
  aud: string[];
  txn: string;
  toe: number;
  sub_id: SubId | { format: 'opaque'; id: string };
  events: Record<string, Record<string, unknown>>;
}

export interface Envelope {
  iss: string;
  aud: string;
  jti: string;
  txn: string;
  now: Date;
  profile: EventProfile;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** sub_id for a SCIM subject (RFC 9967 §2.1): format "scim", uri relative to the SCIM base, id and externalId. */
export function scimSubId(uri: string, id?: string, externalId?: unknown): SubId {
  const s: SubId = { format: 'scim', uri };
  if (id) s.id = id;
  if (typeof externalId === 'string' && externalId !== '') s.externalId = externalId;
  return s;
}

export function setClaims(env: Envelope, subId: SetClaims['sub_id'], canonicalUri: string, payload: Record<string, unknown>): SetClaims {
  return {
    iss: env.iss,
    iat: seconds(env.now),
    jti: env.jti,
    aud: [env.aud],
    txn: env.txn,
    toe: seconds(env.now),
    sub_id: subId,
    events: { [eventUriFor(env.profile, canonicalUri)]: payload },
  };
}

/**
 * prov:* payloads (RFC 9967 §2.2, §2.4): `:full` carries `data` (create/put: the final
 * representation with id and meta, what a replica needs, where §2.4.3 speaks of the PUT body;
 * patch: the PatchOp message, §2.4.2), `:notice` carries `attributes`; never both.
 */
export function provPayload(uri: string, p: { data?: unknown; attributes?: readonly string[]; version?: string | undefined }): Record<string, unknown> {
  if (uri === EVENT.delete || uri === EVENT.activate || uri === EVENT.deactivate || uri === EVENT.feedAdd || uri === EVENT.feedRemove) return {};
  const out: Record<string, unknown> = uri.endsWith(':full') ? { data: p.data } : { attributes: [...(p.attributes ?? [])] };
  if (p.version) out.version = p.version;
  return out;
}

/** misc:asyncresp payload: one RFC 7644 bulk response operation (RFC 9967 §2.5.1.3); status a string. */
export function asyncRespPayload(op: {
  method: string;
  bulkId?: string | undefined;
  version?: string | undefined;
  location?: string | undefined;
  status: number | string;
  response?: unknown;
}): Record<string, unknown> {
  const out: Record<string, unknown> = { method: op.method };
  if (op.bulkId !== undefined) out.bulkId = op.bulkId;
  if (op.version) out.version = op.version;
  if (op.location) out.location = op.location;
  out.status = String(op.status);
  if (op.response !== undefined) out.response = op.response;
  return out;
}
