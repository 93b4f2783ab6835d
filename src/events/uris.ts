/**
 * RFC 9967 event URIs (EVT-16..EVT-26) and the profiles a feed may ask for.
 * `rfc9967` is the final, lower-case form; `draft-03` is draft-ietf-scim-events-03
 * (upper-case SCIM, misc:asyncResp, bulk txn `<txn>-<n>` from 1), kept for older receivers.
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

/** Everything scimcast emits: SPC securityEvents.eventUris and SSF events_supported (SPC-3). */
export const ALL_SCIM_EVENT_URIS: readonly EventUri[] = Object.values(EVENT);

/** What scimcast emits: SPC securityEvents.eventUris and SSF events_supported list exactly that (SPC-3). */
export const EMITTED_EVENT_URIS: readonly EventUri[] = ALL_SCIM_EVENT_URIS;

/** OpenID SSF 1.0 event types (SSF-6, SSF-8). */
export const SSF_EVENT = {
  verification: 'https://schemas.openid.net/secevent/ssf/event-type/verification',
  streamUpdated: 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated',
} as const;

export type EventProfile = 'rfc9967' | 'draft-03';

/**
 * Map any accepted spelling to the canonical RFC 9967 URI: case-insensitive, and the drafts'
 * `urn:ietf:params:SCIM:event:…` / `misc:asyncResp` forms (spec-digest §4.3). Unknown URIs pass through.
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
 * Per-operation txn of an async bulk request (BULK-12, spec-digest Q-1): RFC 9967 uses
 * `<txn>:<zero-based index>`; draft-03 used `<txn>-<n>` counting from 1.
 */
export function bulkOpTxn(profile: EventProfile, txn: string, index: number): string {
  return profile === 'draft-03' ? `${txn}-${index + 1}` : `${txn}:${index}`;
}

/** The originating transaction of a SET: a request's txn, plus the operation index inside a bulk. */
export interface TxnRef {
  base: string;
  index?: number | undefined;
}

/** The `txn` claim a feed of this profile gets (EVT-10, BULK-12). */
export function txnFor(profile: EventProfile, ref: TxnRef): string {
  return ref.index === undefined ? ref.base : bulkOpTxn(profile, ref.base, ref.index);
}
