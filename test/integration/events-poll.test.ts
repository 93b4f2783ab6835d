import { describe, expect, it } from 'vitest';
import { verifySet } from '../../src/events/verify.js';
import { BASE_URL, useTestApp } from '../helpers/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';

const t = useTestApp({ SCIMCAST_POLL_TIMEOUT_MS: '2000' });

type Poll = { sets: Record<string, string>; moreAvailable: boolean };

async function newStream(body: Record<string, unknown>, token = t.token) {
  const res = await t.req('POST', '/ssf/streams', body, { auth: token, headers: { 'content-type': 'application/json' } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { stream_id: string; aud: string; delivery: { endpoint_url: string }; events_delivered: string[] };
}

async function pollOnce(streamId: string, body: Record<string, unknown>, token = t.token) {
  const res = await t.req('POST', `/ssf/streams/${streamId}/poll`, body, { auth: token, headers: { 'content-type': 'application/json' } });
  return { status: res.statusCode, body: res.json() as Poll };
}

async function claimsOf(sets: Record<string, string>, aud: string) {
  const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
  return Promise.all(Object.values(sets).map((jws) => verifySet(jws, { jwks, issuer: BASE_URL, audience: aud })));
}

describe('SSF discovery and stream management (OpenID SSF 1.0 §7, §8.1.1)', () => {
  it('publishes the SSF configuration and a JWKS without private members', async () => {
    const cfg = (await t.req('GET', '/.well-known/ssf-configuration', undefined, { auth: null })).json();
    expect(cfg).toMatchObject({ issuer: BASE_URL, jwks_uri: `${BASE_URL}/jwks.json`, delivery_methods_supported: ['urn:ietf:rfc:8935', 'urn:ietf:rfc:8936'], spec_version: '1_0' });
    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.keys[0].d).toBeUndefined();
  });

  it('creates a poll stream with its own endpoint, events_delivered = requested ∩ supported, and lists, patches and deletes it', async () => {
    const s = await newStream({ events_requested: [`${EV}prov:create:full`, 'urn:ietf:params:SCIM:event:prov:delete', 'urn:example:unknown'], description: 'test' });
    expect(s.delivery).toEqual({ method: 'urn:ietf:rfc:8936', endpoint_url: `${BASE_URL}/ssf/streams/${s.stream_id}/poll` });
    expect(s.aud).toBe(`${BASE_URL}/ssf/streams/${s.stream_id}`);
    expect(s.events_delivered).toEqual([`${EV}prov:create:full`, `${EV}prov:delete`]);
    const list = (await t.req('GET', '/ssf/streams')).json();
    expect(list.map((x: { stream_id: string }) => x.stream_id)).toContain(s.stream_id);
    const patched = await t.req('PATCH', '/ssf/streams', { stream_id: s.stream_id, description: 'changed' });
    expect(patched.json()).toMatchObject({ description: 'changed', events_delivered: s.events_delivered });
    expect((await t.req('DELETE', `/ssf/streams?stream_id=${s.stream_id}`)).statusCode).toBe(204);
    expect((await t.req('GET', `/ssf/streams?stream_id=${s.stream_id}`)).statusCode).toBe(404);
  });

  it('refuses a plain-http push endpoint that is not loopback, and bad stream input', async () => {
    const bad = await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'http://receiver.example.com/events' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ status: '400', scimType: 'invalidValue', detail: expect.stringMatching(/https/) });
    const junk = await t.req('POST', '/ssf/streams', { events_requested: 'all' });
    expect(junk.statusCode).toBe(400);
  });
});

describe('SETs for resource changes, fetched by RFC 8936 poll', () => {
  it('create, put, active flip and delete produce signed SETs in commit order; ack removes them', async () => {
    const s = await newStream({ events_requested: ['urn:ietf:params:scim:event:prov:*', `${EV}feed:add`] });
    const created = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'ev-user', externalId: 'E-1', active: true })).json();
    await t.req('PUT', `/scim/v2/Users/${created.id}`, { schemas: [USER], userName: 'ev-user', externalId: 'E-1', active: false });
    await t.req('DELETE', `/scim/v2/Users/${created.id}`);

    const { status, body } = await pollOnce(s.stream_id, { returnImmediately: true });
    expect(status).toBe(200);
    expect(body.moreAvailable).toBe(false);
    const claims = await claimsOf(body.sets, s.aud);
    const uris = claims.map((c) => Object.keys(c.events)[0]);
    expect(uris).toEqual([
      `${EV}prov:create:full`,
      `${EV}prov:create:notice`,
      `${EV}prov:put:full`,
      `${EV}prov:put:notice`,
      `${EV}prov:deactivate`,
      `${EV}prov:delete`,
    ]);
    for (const c of claims) {
      expect(c).not.toHaveProperty('sub');
      expect(c).not.toHaveProperty('exp');
      expect(c.aud).toEqual([s.aud]);
      expect(c.sub_id).toEqual({ format: 'scim', uri: `/Users/${created.id}`, id: created.id, externalId: 'E-1' });
      expect(Object.keys(c.events)).toHaveLength(1);
    }
    // RFC 9967 §2.4: full carries data (the final representation), notice carries attributes, never both.
    const createFull = claims[0]!.events[`${EV}prov:create:full`]!;
    expect(createFull).toEqual({ data: created, version: created.meta.version });
    const putNotice = claims[3]!.events[`${EV}prov:put:notice`]!;
    expect(putNotice).toEqual({ attributes: ['active'], version: 'W/"2"' });
    expect(claims[5]!.events[`${EV}prov:delete`]).toEqual({});
    // One txn per request; distinct across requests (RFC 9967 §2.2).
    expect(claims[0]!.txn).toBe(claims[1]!.txn);
    expect(claims[0]!.txn).not.toBe(claims[2]!.txn);

    // Unacknowledged SETs come again; acknowledged ones never do.
    const again = await pollOnce(s.stream_id, { returnImmediately: true, ack: Object.keys(body.sets).slice(0, 4) });
    expect(Object.keys(again.body.sets)).toEqual(Object.keys(body.sets).slice(4));
    const ackAll = await pollOnce(s.stream_id, { ack: Object.keys(again.body.sets), maxEvents: 0, returnImmediately: true });
    expect(ackAll.body).toEqual({ sets: {}, moreAvailable: false });
    expect((await pollOnce(s.stream_id, { returnImmediately: true })).body.sets).toEqual({});
  });

  it('maxEvents pages with moreAvailable; maxEvents 0 only acknowledges', async () => {
    const s = await newStream({ events_requested: [`${EV}prov:create:notice`] });
    for (let i = 0; i < 3; i++) await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `page-${i}` });
    const first = await pollOnce(s.stream_id, { maxEvents: 2, returnImmediately: true });
    expect(Object.keys(first.body.sets)).toHaveLength(2);
    expect(first.body.moreAvailable).toBe(true);
    const ackOnly = await pollOnce(s.stream_id, { ack: Object.keys(first.body.sets), maxEvents: 0, returnImmediately: true });
    expect(ackOnly.body.sets).toEqual({});
    const rest = await pollOnce(s.stream_id, { returnImmediately: true });
    expect(Object.keys(rest.body.sets)).toHaveLength(1);
  });

  it('a long poll wakes as soon as a new SET commits', async () => {
    const s = await newStream({ events_requested: [`${EV}prov:create:notice`] });
    const started = Date.now();
    const pending = pollOnce(s.stream_id, {});
    await new Promise((r) => setTimeout(r, 150));
    await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'wake-up' });
    const { body } = await pending;
    const elapsed = Date.now() - started;
    expect(Object.keys(body.sets)).toHaveLength(1);
    expect(elapsed).toBeLessThan(1500); // the configured long-poll timeout is 2000 ms
  });

  it('a long poll with nothing to send returns {"sets":{}} at the timeout', async () => {
    const s = await newStream({ events_requested: [`${EV}prov:delete`] });
    const { body } = await pollOnce(s.stream_id, { timeoutSecs: 0.3 });
    expect(body).toEqual({ sets: {}, moreAvailable: false });
  });

  it('setErrs move a SET to the dead letter: it is not sent again', async () => {
    const s = await newStream({ events_requested: [`${EV}prov:create:notice`] });
    await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'dead-1' });
    const { body } = await pollOnce(s.stream_id, { returnImmediately: true });
    const jti = Object.keys(body.sets)[0]!;
    await pollOnce(s.stream_id, { setErrs: { [jti]: { err: 'invalid_key', description: 'unknown kid' } }, maxEvents: 0, returnImmediately: true });
    expect((await pollOnce(s.stream_id, { returnImmediately: true })).body.sets).toEqual({});
    expect(await t.deps.storage.events.dead(s.stream_id, 10)).toMatchObject([{ jti, errCode: 'invalid_key', errDescription: 'unknown kid' }]);
    // The delivery the receiver refused is counted.
    expect((await t.req('GET', `/ssf/streams/${s.stream_id}/dead`)).json().sets).toEqual([expect.objectContaining({ jti, err: 'invalid_key', attempts: 1 })]);
  });

  it('malformed poll bodies get 400; another token cannot see or poll the stream', async () => {
    const s = await newStream({ events_requested: [`${EV}prov:create:notice`] });
    for (const body of [{ maxEvents: -1 }, { ack: 'x' }, { returnImmediately: 'yes' }, { setErrs: { a: 1 } }]) {
      expect((await pollOnce(s.stream_id, body)).status, JSON.stringify(body)).toBe(400);
    }
    const other = await t.tokenWith(['feeds:admin', 'scim:read']);
    expect((await pollOnce(s.stream_id, { returnImmediately: true }, other)).status).toBe(404);
    expect((await t.req('GET', `/ssf/streams?stream_id=${s.stream_id}`, undefined, { auth: other })).statusCode).toBe(404);
    expect((await t.req('GET', '/ssf/streams', undefined, { auth: other })).json()).toEqual([]);
  });

  it('the draft-03 profile uses the old URIs', async () => {
    const s = await newStream({ events_requested: [`${EV}prov:create:full`], profile: 'draft-03' });
    await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'draft03-user' });
    const { body } = await pollOnce(s.stream_id, { returnImmediately: true });
    const [c] = await claimsOf(body.sets, s.aud);
    expect(Object.keys(c!.events)).toEqual(['urn:ietf:params:SCIM:event:prov:create:full']);
  });

  it('status: paused streams keep SETs and send none; resuming sends them; changes emit stream-updated', async () => {
    const s = await newStream({ events_requested: [`${EV}prov:create:notice`] });
    const paused = await t.req('POST', '/ssf/status', { stream_id: s.stream_id, status: 'paused', reason: 'maintenance' });
    expect(paused.json()).toEqual({ stream_id: s.stream_id, status: 'paused', reason: 'maintenance' });
    await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'while-paused' });
    expect((await pollOnce(s.stream_id, { returnImmediately: true })).body.sets).toEqual({});
    await t.req('POST', '/ssf/status', { stream_id: s.stream_id, status: 'enabled' });
    const { body } = await pollOnce(s.stream_id, { returnImmediately: true });
    const uris = (await claimsOf(body.sets, s.aud)).map((c) => Object.keys(c.events)[0]);
    expect(uris).toEqual([
      'https://schemas.openid.net/secevent/ssf/event-type/stream-updated',
      `${EV}prov:create:notice`,
      'https://schemas.openid.net/secevent/ssf/event-type/stream-updated',
    ]);
  });

  it('verification sends a SET with the state; subjects added to a NONE stream get their events and feed:add', async () => {
    const s = await newStream({ events_requested: [`${EV}prov:put:notice`, `${EV}feed:add`], default_subjects: 'NONE' });
    expect((await t.req('POST', '/ssf/verify', { stream_id: s.stream_id, state: 'xyz' })).statusCode).toBe(204);
    const a = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'subj-a' })).json();
    const b = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'subj-b' })).json();
    expect((await t.req('POST', '/ssf/subjects/add', { stream_id: s.stream_id, subject: { format: 'scim', uri: `/Users/${a.id}` } })).statusCode).toBe(200);
    await t.req('PUT', `/scim/v2/Users/${a.id}`, { schemas: [USER], userName: 'subj-a', title: 'x' });
    await t.req('PUT', `/scim/v2/Users/${b.id}`, { schemas: [USER], userName: 'subj-b', title: 'x' });
    const { body } = await pollOnce(s.stream_id, { returnImmediately: true });
    const claims = await claimsOf(body.sets, s.aud);
    expect(claims.map((c) => [Object.keys(c.events)[0], (c.sub_id as { uri?: string; id?: string }).uri ?? (c.sub_id as { id: string }).id])).toEqual([
      ['https://schemas.openid.net/secevent/ssf/event-type/verification', s.stream_id],
      [`${EV}feed:add`, `/Users/${a.id}`],
      [`${EV}prov:put:notice`, `/Users/${a.id}`],
    ]);
    expect(claims[0]!.events['https://schemas.openid.net/secevent/ssf/event-type/verification']).toEqual({ state: 'xyz' });
  });

  it('ServiceProviderConfig lists exactly the emitted events', async () => {
    const spc = (await t.req('GET', '/scim/v2/ServiceProviderConfig')).json();
    expect(spc.securityEvents.asyncRequest).toBe('request');
    expect(spc.securityEvents.eventUris).toHaveLength(12); // the RFC 9967 §7.4 initial registry
    expect(spc.securityEvents.eventUris).toContain(`${EV}prov:create:full`);
    const cfg = (await t.req('POST', '/ssf/streams', {})).json();
    expect(cfg.events_supported).toEqual(spc.securityEvents.eventUris);
  });
});
