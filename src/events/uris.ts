/**
 * RFC 9967 event URIs (§2.3, §2.4, §2.5, registered in §7.4) and the profiles a feed may ask for.
 * `rfc9967` is the final, lower-case form; `draft-03` is draft-ietf-scim-events-03
 * (upper-case SCIM, misc:asyncResp, bulk txn `<txn>-<n>` from 1), kept for older receivers.
 * See docs/decisions/0005-event-profiles-rfc9967-and-draft-03.md.
 */
const P = 'urn:ietf:params:scim:event:';

export const EVENT = {
  feedAdd: `${P}feed:add`,
  feedRemove: `${P}feed:remove`,
  createNotice: `${P}prov:create:notice`,
  createFull: `${P}prov:create:full`,
  patchNotice: `${P}prov:patch:notice`,
  patchFull: `${P}prov:patch:full`,
  putNotice: `${P}prov:put:notice`,
  putFull: `${P}prov:put:full`,
  delete: `${P}prov:delete`,
  activate: `${P}prov:activate`,
  deactivate: `${P}prov:deactivate`,
  asyncResp: `${P}misc:asyncresp`,
} as const;

export type EventUri = (typeof EVENT)[keyof typeof EVENT];

/** Every RFC 9967 event URI scimcast knows (RFC 9967 §7.4). */
export const ALL_SCIM_EVENT_URIS: readonly EventUri[] = Object.values(EVENT);

/** What scimcast emits: SPC securityEvents.eventUris (RFC 9967 §4) and SSF events_supported list exactly that. */
export const EMITTED_EVENT_URIS: readonly EventUri[] = ALL_SCIM_EVENT_URIS;

/** OpenID SSF 1.0 event types (§8.1.4 verification, §8.1.5 stream updated). */
export const SSF_EVENT = {
  verification: 'https://schemas.openid.net/secevent/ssf/event-type/verification',
  streamUpdated: 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated',
} as const;

export type EventProfile = 'rfc9967' | 'draft-03';

/**
 * Map any accepted spelling to the canonical RFC 9967 URI: case-insensitive, and the drafts'
 * `urn:ietf:params:SCIM:event:…` / `misc:asyncResp` forms (accept leniently what older peers send).
 * Unknown URIs pass through.
 */
export function normalizeEventUri(uri: string): string {
  const lower = uri.trim().toLowerCase();
  return ALL_SCIM_EVENT_URIS.find((u) => u === lower) ?? Object.values(SSF_EVENT).find((u) => u === lower) ?? uri.trim();
}

/** The URI a feed of this profile receives for a canonical event URI. */
export function eventUriFor(profile: EventProfile, canonical: string): string {
  if (profile === 'rfc9967' || !canonical.startsWith(P)) return canonical;
  const rest = canonical.slice(P.length).replace('misc:asyncresp', 'misc:asyncResp');
  return `urn:ietf:params:SCIM:event:${rest}`;
}

/**
 * Per-operation txn of an async bulk request: RFC 9967 §2.5.1.2 uses `<txn>:<zero-based index>`
 * (its example figures count from 1; the normative text wins); draft-03 used `<txn>-<n>` counting
 * from 1. See docs/decisions/0006-bulk-operation-txn.md.
 */
export function bulkOpTxn(profile: EventProfile, txn: string, index: number): string {
  return profile === 'draft-03' ? `${txn}-${index + 1}` : `${txn}:${index}`;
}

/** The originating transaction of a SET: a request's txn, plus the operation index inside a bulk. */
export interface TxnRef {
  base: string;
  index?: number | undefined;
}

/** The `txn` claim a feed of this profile gets (RFC 9967 §2.2, §2.5.1.2). */
export function txnFor(profile: EventProfile, ref: TxnRef): string {
  return ref.index === undefined ? ref.base : bulkOpTxn(profile, ref.base, ref.index);
}
