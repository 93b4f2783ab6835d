import { describe, expect, it } from 'vitest';
import { provPayload, setClaims } from '../../../src/events/claims.js';
import { publicJwks } from '../../../src/events/keys.js';
import { eventsDelivered } from '../../../src/feeds/stream-config.js';
import { candidateEvents } from '../../../src/feeds/targets.js';
import { ALL_SCIM_EVENT_URIS, EVENT, bulkOpTxn, eventUriFor, normalizeEventUri } from '../../../src/events/uris.js';

/** Pure rules: event URIs per profile, bulk txn forms, payload shapes and claims (RFC 9967 §2, RFC 8417 §2.2). */
describe('event URIs and profiles (RFC 9967 §7.4; the draft-03 profile)', () => {
  it('the twelve RFC 9967 §7.4 URIs, lower case', () => {
    expect(ALL_SCIM_EVENT_URIS).toHaveLength(12);
    for (const u of ALL_SCIM_EVENT_URIS) expect(u).toBe(u.toLowerCase());
  });

  it('draft-03 spells them urn:ietf:params:SCIM:event:… and misc:asyncResp; SSF URIs are never rewritten', () => {
    expect(eventUriFor('draft-03', EVENT.asyncResp)).toBe('urn:ietf:params:SCIM:event:misc:asyncResp');
    expect(eventUriFor('draft-03', EVENT.createFull)).toBe('urn:ietf:params:SCIM:event:prov:create:full');
    expect(eventUriFor('rfc9967', EVENT.createFull)).toBe(EVENT.createFull);
    const ssf = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
    expect(eventUriFor('draft-03', ssf)).toBe(ssf);
  });

  it('bulk txn: "<txn>:<zero-based>" (RFC 9967 §2.5.1.2) or draft-03 "<txn>-<n>" from 1', () => {
    expect([0, 1].map((i) => bulkOpTxn('rfc9967', 'T', i))).toEqual(['T:0', 'T:1']);
    expect([0, 1].map((i) => bulkOpTxn('draft-03', 'T', i))).toEqual(['T-1', 'T-2']);
  });

  it('legacy and mixed-case spellings normalise; events_delivered = requested ∩ supported, with the * extension', () => {
    expect(normalizeEventUri('urn:ietf:params:SCIM:event:misc:asyncResp')).toBe(EVENT.asyncResp);
    expect(eventsDelivered(['urn:ietf:params:SCIM:event:prov:*', 'urn:example:nope'], ALL_SCIM_EVENT_URIS, normalizeEventUri)).toEqual(
      ALL_SCIM_EVENT_URIS.filter((u) => u.includes(':prov:')),
    );
    expect(eventsDelivered(['*'], ALL_SCIM_EVENT_URIS, normalizeEventUri)).toEqual(ALL_SCIM_EVENT_URIS);
  });
});

describe('payloads and claims (RFC 9967 §2.1–§2.4: no sub; RFC 8417 §2.2: no exp)', () => {
  it(':full carries data, :notice attributes, never both; delete, activate, deactivate, feed:* are empty', () => {
    const p = { data: { id: 'x' }, attributes: ['userName'], version: 'W/"1"' };
    expect(provPayload(EVENT.createFull, p)).toEqual({ data: { id: 'x' }, version: 'W/"1"' });
    expect(provPayload(EVENT.patchNotice, p)).toEqual({ attributes: ['userName'], version: 'W/"1"' });
    for (const u of [EVENT.delete, EVENT.activate, EVENT.deactivate, EVENT.feedAdd, EVENT.feedRemove]) expect(provPayload(u, p)).toEqual({});
  });

  it('activate/deactivate only when active flips on an existing resource', () => {
    const res = (active?: boolean) => ({ active, meta: {} }) as never;
    expect(candidateEvents({ kind: 'patch', type: 'User', id: 'u', before: res(true), after: res(false) } as never)).toContain(EVENT.deactivate);
    expect(candidateEvents({ kind: 'put', type: 'User', id: 'u', before: res(false), after: res(true) } as never)).toContain(EVENT.activate);
    expect(candidateEvents({ kind: 'put', type: 'User', id: 'u', before: res(true), after: res(true) } as never)).toEqual([EVENT.putFull, EVENT.putNotice]);
    expect(candidateEvents({ kind: 'create', type: 'User', id: 'u', after: res(true) } as never)).toEqual([EVENT.createFull, EVENT.createNotice]);
  });

  it('claims: one event, aud the one feed, iat = toe, no sub or exp', () => {
    const c = setClaims({ iss: 'https://i', aud: 'https://i/f', jti: 'J', txn: 'T', now: new Date(1_700_000_000_123), profile: 'rfc9967' }, { format: 'scim', uri: '/Users/1' }, EVENT.delete, {});
    expect(c).toEqual({ iss: 'https://i', iat: 1_700_000_000, jti: 'J', aud: ['https://i/f'], txn: 'T', toe: 1_700_000_000, sub_id: { format: 'scim', uri: '/Users/1' }, events: { [EVENT.delete]: {} } });
  });

  it('the JWKS never carries private members, whatever was stored', () => {
    const jwks = publicJwks([{ publicJwk: { kty: 'RSA', n: 'n', e: 'AQAB', d: 'x', p: 'p', q: 'q', dp: '1', dq: '2', qi: '3', kid: 'k' } }, { publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'x', d: 'y' } }]);
    expect(jwks).toEqual({ keys: [{ kty: 'RSA', n: 'n', e: 'AQAB', kid: 'k' }, { kty: 'OKP', crv: 'Ed25519', x: 'x' }] });
  });
});
