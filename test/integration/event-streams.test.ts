import { decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { rotateSigningKey } from '../../src/events/key-store.js';
import { verifySet } from '../../src/events/verify.js';
import { buildApp } from '../../src/http/app.js';
import { makeDeps } from '../../src/main.js';
import { makePrune } from '../../src/worker/tasks/prune.js';
import { BASE_URL, startTestApp, type TestApp, useTestApp } from '../helpers/app.js';

/**
 * Event streams beyond events-poll.test.ts and the spec replays: OpenID SSF 1.0 stream
 * management, the SET format (RFC 8417, RFC 9967 §2), RFC 8936 poll, key rotation and retention,
 * signing algorithms. Real Postgres, real HTTP through fastify inject(), the real prune task.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const EV = 'urn:ietf:params:scim:event:';
const STREAM_UPDATED = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated';
const JSON_CT = { 'content-type': 'application/json' };
const DAY = 86_400_000;

type Poll = { sets: Record<string, string>; moreAvailable: boolean };
interface Stream {
  stream_id: string;
  aud: string;
  [k: string]: unknown;
}

const t = useTestApp({ SCIMCAST_POLL_TIMEOUT_MS: '400', SCIMCAST_POLL_MAX_TIMEOUT_MS: '1500' });

async function newStream(app: TestApp, body: Record<string, unknown>, token = app.token): Promise<Stream> {
  const res = await app.req('POST', '/ssf/streams', body, { auth: token, headers: JSON_CT });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
async function pollOnce(app: TestApp, id: string, body: Record<string, unknown>) {
  const res = await app.req('POST', `/ssf/streams/${id}/poll`, body, { headers: JSON_CT });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Poll;
}
const jwksOf = async (app: TestApp): Promise<JSONWebKeySet> => (await app.req('GET', '/jwks.json', undefined, { auth: null })).json();
async function claimsOf(app: TestApp, sets: Record<string, string>, aud: string) {
  const jwks = await jwksOf(app);
  return Promise.all(Object.values(sets).map((jws) => verifySet(jws, { jwks, issuer: BASE_URL, audience: aud })));
}
const uriOf = (c: { events: Record<string, unknown> }) => Object.keys(c.events)[0]!;
const mkUser = async (app: TestApp, userName: string, extra: Record<string, unknown> = {}) => {
  const res = await app.req('POST', '/scim/v2/Users', { schemas: [USER], userName, ...extra });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; meta: { version: string } };
};

describe('SSF stream management (OpenID SSF 1.0 §7, §8)', () => {
  it('SSF §7: /.well-known/ssf-configuration carries every member, and each advertised endpoint answers', async () => {
    const cfg = (await t.req('GET', '/.well-known/ssf-configuration', undefined, { auth: null })).json();
    expect(cfg).toEqual({
      spec_version: '1_0',
      issuer: BASE_URL,
      jwks_uri: `${BASE_URL}/jwks.json`,
      delivery_methods_supported: ['urn:ietf:rfc:8935', 'urn:ietf:rfc:8936'],
      configuration_endpoint: `${BASE_URL}/ssf/streams`,
      status_endpoint: `${BASE_URL}/ssf/status`,
      add_subject_endpoint: `${BASE_URL}/ssf/subjects/add`,
      remove_subject_endpoint: `${BASE_URL}/ssf/subjects/remove`,
      verification_endpoint: `${BASE_URL}/ssf/verify`,
      authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6750' }],
      default_subjects: 'ALL',
    });
    const path = (u: string) => u.slice(BASE_URL.length);
    const s = await newStream(t, { events_requested: [`${EV}feed:add`, `${EV}feed:remove`] });
    expect((await t.req('GET', path(cfg.jwks_uri), undefined, { auth: null })).statusCode).toBe(200);
    expect((await t.req('GET', `${path(cfg.configuration_endpoint)}?stream_id=${s.stream_id}`)).json()).toMatchObject({ stream_id: s.stream_id });
    expect((await t.req('GET', `${path(cfg.status_endpoint)}?stream_id=${s.stream_id}`)).json()).toEqual({ stream_id: s.stream_id, status: 'enabled' });
    expect((await t.req('POST', path(cfg.verification_endpoint), { stream_id: s.stream_id, state: 's1' }, { headers: JSON_CT })).statusCode).toBe(204);
    const u = await mkUser(t, 'ssf3-subject');
    const subject = { format: 'scim', uri: `/Users/${u.id}` };
    expect((await t.req('POST', path(cfg.add_subject_endpoint), { stream_id: s.stream_id, subject }, { headers: JSON_CT })).statusCode).toBe(200);
    expect((await t.req('POST', path(cfg.remove_subject_endpoint), { stream_id: s.stream_id, subject }, { headers: JSON_CT })).statusCode).toBe(204);
    // The management endpoints need a token (SSF §8); discovery and keys do not.
    expect((await t.req('GET', path(cfg.configuration_endpoint), undefined, { auth: null })).statusCode).toBe(401);
  });

  it('SSF §8.1.1: GET one by path or ?stream_id; PUT replaces (absent receiver members reset) while stream_id, iss and aud stay', async () => {
    const s = await newStream(t, { events_requested: [`${EV}prov:create:full`, `${EV}prov:delete`], description: 'before', profile: 'draft-03', resource_types: ['User'] });
    expect(s).toMatchObject({ iss: BASE_URL, aud: `${BASE_URL}/ssf/streams/${s.stream_id}`, description: 'before', profile: 'draft-03', resource_types: ['User'] });
    expect((await t.req('GET', `/ssf/streams/${s.stream_id}`)).json()).toEqual(s);
    expect((await t.req('GET', `/ssf/streams?stream_id=${s.stream_id}`)).json()).toEqual(s);

    const put = await t.req('PUT', '/ssf/streams', { stream_id: s.stream_id, aud: 'https://attacker.example/feed', events_requested: [`${EV}prov:delete`] }, { headers: JSON_CT });
    expect(put.statusCode, put.body).toBe(200);
    const replaced = put.json();
    expect(replaced).toMatchObject({
      stream_id: s.stream_id,
      iss: BASE_URL,
      aud: s.aud, // SSF §8.1.1: aud is transmitter-set and immutable
      events_requested: [`${EV}prov:delete`],
      events_delivered: [`${EV}prov:delete`],
      profile: 'rfc9967',
      resource_types: [],
      delivery: { method: 'urn:ietf:rfc:8936', endpoint_url: `${BASE_URL}/ssf/streams/${s.stream_id}/poll` },
    });
    expect(replaced.description).toBeUndefined();
    expect((await t.req('GET', `/ssf/streams/${s.stream_id}`)).json()).toEqual(replaced);
  });

  it('SSF §8.1.1: bad updates are SCIM errors and change nothing (missing or unknown stream_id, bad members)', async () => {
    const s = await newStream(t, { events_requested: [`${EV}prov:delete`], description: 'keep' });
    const cases: [string, unknown, number][] = [
      ['PATCH', { description: 'x' }, 400],
      ['PATCH', { stream_id: 'f-nope', description: 'x' }, 404],
      ['PATCH', { stream_id: s.stream_id, description: 42 }, 400],
      ['PUT', { stream_id: s.stream_id, delivery: { method: 'urn:ietf:rfc:8935' } }, 400],
      ['PUT', { stream_id: s.stream_id, unknown_member: true }, 400],
      ['PATCH', '[1,2]', 400],
    ];
    for (const [method, body, status] of cases) {
      const res = await t.req(method, '/ssf/streams', body, { headers: JSON_CT });
      expect(res.statusCode, `${method} ${JSON.stringify(body)}`).toBe(status);
      expect(res.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status) });
    }
    expect((await t.req('DELETE', '/ssf/streams')).statusCode).toBe(400);
    expect((await t.req('GET', `/ssf/streams/${s.stream_id}`)).json()).toEqual(s);
  });

  it('SSF §8: another owner can neither read, change, delete, pause, verify nor add subjects to a stream (404), and nothing changes', async () => {
    const s = await newStream(t, { events_requested: [`${EV}prov:create:notice`, `${EV}feed:add`], description: 'mine' });
    const other = await t.tokenWith(['feeds:admin', 'scim:read']);
    const u = await mkUser(t, 'owner-iso');
    const as = (method: string, url: string, body?: unknown) => t.req(method, url, body, { auth: other, headers: JSON_CT });
    const attempts = [
      await as('GET', `/ssf/streams/${s.stream_id}`),
      await as('PATCH', '/ssf/streams', { stream_id: s.stream_id, description: 'theirs' }),
      await as('PUT', '/ssf/streams', { stream_id: s.stream_id }),
      await as('DELETE', `/ssf/streams?stream_id=${s.stream_id}`),
      await as('GET', `/ssf/status?stream_id=${s.stream_id}`),
      await as('POST', '/ssf/status', { stream_id: s.stream_id, status: 'disabled' }),
      await as('POST', '/ssf/verify', { stream_id: s.stream_id, state: 'x' }),
      await as('POST', '/ssf/subjects/add', { stream_id: s.stream_id, subject: { format: 'scim', uri: `/Users/${u.id}` } }),
      await as('GET', `/ssf/streams/${s.stream_id}/dead`),
    ];
    expect(attempts.map((r) => r.statusCode)).toEqual(attempts.map(() => 404));
    expect((await t.req('GET', `/ssf/streams/${s.stream_id}`)).json()).toEqual(s);
    expect((await t.req('GET', `/ssf/status?stream_id=${s.stream_id}`)).json().status).toBe('enabled');
    // Only the owner's user create is on the stream: no stream-updated, verification or feed:add.
    const { sets } = await pollOnce(t, s.stream_id, { returnImmediately: true });
    expect((await claimsOf(t, sets, s.aud)).map(uriOf)).toEqual([`${EV}prov:create:notice`]);
  });

  it('SSF §8.1.2: a disabled stream drops events (none stored meanwhile) and serves nothing but still takes acks; a paused one keeps them', async () => {
    const s = await newStream(t, { events_requested: [`${EV}prov:create:notice`] });
    await mkUser(t, 'before-disable');
    const [kept] = Object.keys((await pollOnce(t, s.stream_id, { returnImmediately: true })).sets);
    await t.req('POST', '/ssf/status', { stream_id: s.stream_id, status: 'disabled', reason: 'receiver gone' }, { headers: JSON_CT });
    await mkUser(t, 'while-disabled');
    // Disabled: nothing is served, but the earlier SET can still be acknowledged.
    expect(await pollOnce(t, s.stream_id, { returnImmediately: true, ack: [kept!] })).toEqual({ sets: {}, moreAvailable: false });
    await t.req('POST', '/ssf/status', { stream_id: s.stream_id, status: 'paused' }, { headers: JSON_CT });
    await mkUser(t, 'while-paused');
    await t.req('POST', '/ssf/status', { stream_id: s.stream_id, status: 'enabled' }, { headers: JSON_CT });
    const claims = await claimsOf(t, (await pollOnce(t, s.stream_id, { returnImmediately: true })).sets, s.aud);
    const summary = claims.map((c) => (uriOf(c) === STREAM_UPDATED ? (c.events[STREAM_UPDATED] as { status: string }).status : uriOf(c)));
    // The create made while disabled is gone for good; the one made while paused is kept.
    expect(summary).toEqual(['disabled', 'paused', `${EV}prov:create:notice`, 'enabled']);
    expect(claims[0]!.events[STREAM_UPDATED]).toEqual({ status: 'disabled', reason: 'receiver gone' });
    expect(claims[0]!.sub_id).toEqual({ format: 'opaque', id: s.stream_id });
    const users = claims.filter((c) => uriOf(c) === `${EV}prov:create:notice`);
    expect(users).toHaveLength(1);
    expect(jtiOrder(claims)).toBe(true);
  });

  it('resource_types: a Group-only stream gets Group events and no User events', async () => {
    const s = await newStream(t, { events_requested: [`${EV}prov:create:notice`, `${EV}prov:delete`], resource_types: ['Group'] });
    const u = await mkUser(t, 'rt-user');
    const g = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'RT Group' })).json();
    await t.req('DELETE', `/scim/v2/Users/${u.id}`);
    await t.req('DELETE', `/scim/v2/Groups/${g.id}`);
    const claims = await claimsOf(t, (await pollOnce(t, s.stream_id, { returnImmediately: true })).sets, s.aud);
    expect(claims.map((c) => [uriOf(c), c.sub_id])).toEqual([
      [`${EV}prov:create:notice`, { format: 'scim', uri: `/Groups/${g.id}`, id: g.id }],
      [`${EV}prov:delete`, { format: 'scim', uri: `/Groups/${g.id}`, id: g.id }],
    ]);
  });

  it('RFC 9967 §2.3.2: remove-subject emits feed:remove, after which that subject produces no more events on a NONE stream', async () => {
    const s = await newStream(t, { events_requested: [`${EV}feed:add`, `${EV}feed:remove`, `${EV}prov:put:notice`], default_subjects: 'NONE' });
    const u = await mkUser(t, 'subj-remove', { externalId: 'ext-r' });
    const subject = { format: 'scim', uri: `/Users/${u.id}` };
    await t.req('POST', '/ssf/subjects/add', { stream_id: s.stream_id, subject }, { headers: JSON_CT });
    await t.req('PUT', `/scim/v2/Users/${u.id}`, { schemas: [USER], userName: 'subj-remove', externalId: 'ext-r', title: 'a' });
    await t.req('POST', '/ssf/subjects/remove', { stream_id: s.stream_id, subject }, { headers: JSON_CT });
    // A second remove changes nothing and emits nothing.
    expect((await t.req('POST', '/ssf/subjects/remove', { stream_id: s.stream_id, subject }, { headers: JSON_CT })).statusCode).toBe(204);
    await t.req('PUT', `/scim/v2/Users/${u.id}`, { schemas: [USER], userName: 'subj-remove', externalId: 'ext-r', title: 'b' });
    const claims = await claimsOf(t, (await pollOnce(t, s.stream_id, { returnImmediately: true })).sets, s.aud);
    expect(claims.map(uriOf)).toEqual([`${EV}feed:add`, `${EV}prov:put:notice`, `${EV}feed:remove`]);
    expect(claims[2]!.events[`${EV}feed:remove`]).toEqual({});
    expect(claims[2]!.sub_id).toEqual({ format: 'scim', uri: `/Users/${u.id}`, id: u.id, externalId: 'ext-r' });
    // A subject that is not a SCIM resource path is a SCIM 400.
    const bad = await t.req('POST', '/ssf/subjects/add', { stream_id: s.stream_id, subject: { format: 'email', email: 'a@b.c' } }, { headers: JSON_CT });
    expect(bad.statusCode).toBe(400);
  });
});

const jtiOrder = (claims: { jti: string }[]) => claims.every((c, i) => i === 0 || claims[i - 1]!.jti < c.jti);

describe('SET format (RFC 8417 §2, RFC 9967 §2.1, SSF §4.1)', () => {
  it('header typ secevent+jwt, alg ES256, kid of a published key; iss is the https issuer; iat, toe; strictly increasing jti even within one bulk; never sub or exp', async () => {
    const s = await newStream(t, { events_requested: [`${EV}prov:create:notice`] });
    const ops = Array.from({ length: 5 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: { schemas: [USER], userName: `set-format-${i}` } }));
    const res = await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK], Operations: ops });
    expect(res.statusCode, res.body).toBe(200);
    const { sets } = await pollOnce(t, s.stream_id, { returnImmediately: true });
    const jwks = await jwksOf(t);
    const kids = jwks.keys.map((k) => k.kid);
    for (const jws of Object.values(sets)) {
      const h = decodeProtectedHeader(jws);
      expect(h).toEqual({ alg: 'ES256', typ: 'secevent+jwt', kid: expect.any(String) });
      expect(kids).toContain(h.kid);
    }
    const claims = await claimsOf(t, sets, s.aud);
    expect(claims).toHaveLength(5);
    expect(Object.keys(sets)).toEqual(claims.map((c) => c.jti)); // poll keys are the jtis
    expect(jtiOrder(claims)).toBe(true);
    for (const c of claims) {
      expect(c.iss).toMatch(/^https:\/\//);
      expect(Number.isInteger(c.iat) && Number.isInteger(c.toe)).toBe(true);
      expect(Math.abs(c.iat - Date.now() / 1000)).toBeLessThan(300);
      expect(c.jti).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(Object.keys(c).sort()).toEqual(['aud', 'events', 'iat', 'iss', 'jti', 'sub_id', 'toe', 'txn']);
    }
  });

  it('in a bulk, rfc9967 streams get txn "<txn>:<zero-based index>" and draft-03 streams "<txn>-<n>" from 1, with the old URIs', async () => {
    const now = await newStream(t, { events_requested: [`${EV}prov:create:notice`] });
    const old = await newStream(t, { events_requested: [`${EV}prov:create:notice`], profile: 'draft-03' });
    const ops = ['a', 'b'].map((n) => ({ method: 'POST', path: '/Users', bulkId: n, data: { schemas: [USER], userName: `profile-bulk-${n}` } }));
    expect((await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK], Operations: ops })).statusCode).toBe(200);
    const a = await claimsOf(t, (await pollOnce(t, now.stream_id, { returnImmediately: true })).sets, now.aud);
    const b = await claimsOf(t, (await pollOnce(t, old.stream_id, { returnImmediately: true })).sets, old.aud);
    const base = a[0]!.txn.replace(/:0$/, '');
    expect(a.map((c) => c.txn)).toEqual([`${base}:0`, `${base}:1`]);
    expect(b.map((c) => c.txn)).toEqual([`${base}-1`, `${base}-2`]);
    expect(b.map(uriOf)).toEqual(['urn:ietf:params:SCIM:event:prov:create:notice', 'urn:ietf:params:SCIM:event:prov:create:notice']);
  });

  it('outbox: a refused change (409 uniqueness, 412 If-Match) stores no SET on any stream', async () => {
    const s = await newStream(t, { events_requested: ['urn:ietf:params:scim:event:prov:*'] });
    const u = await mkUser(t, 'outbox-user');
    await pollOnce(t, s.stream_id, { returnImmediately: true }).then((p) => pollOnce(t, s.stream_id, { ack: Object.keys(p.sets), maxEvents: 0, returnImmediately: true }));
    const dup = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'OUTBOX-USER' });
    expect(dup.statusCode).toBe(409);
    const stale = await t.req('PUT', `/scim/v2/Users/${u.id}`, { schemas: [USER], userName: 'outbox-user', title: 'x' }, { headers: { 'if-match': 'W/"999"' } });
    expect(stale.statusCode).toBe(412);
    const badPatch = await t.req('PATCH', `/scim/v2/Users/${u.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'userName', value: 42 }] });
    expect(badPatch.statusCode).toBe(400);
    expect(await t.deps.storage.events.countsByState(s.stream_id)).toMatchObject({ pending: 0 });
  });
});

describe('RFC 8936 poll', () => {
  it('§2.2: maxEvents absent means no limit: every pending SET comes back, oldest first, moreAvailable false', async () => {
    const s = await newStream(t, { events_requested: [`${EV}prov:create:notice`] });
    for (let i = 0; i < 7; i++) await mkUser(t, `no-limit-${i}`);
    const r = await pollOnce(t, s.stream_id, { returnImmediately: true });
    expect(r.moreAvailable).toBe(false);
    const claims = await claimsOf(t, r.sets, s.aud);
    expect(claims).toHaveLength(7);
    expect(jtiOrder(claims)).toBe(true);
  });

  it('§2.2, §2.5: the long-poll timeout is SCIMCAST_POLL_TIMEOUT_MS by default and timeoutSecs is capped at SCIMCAST_POLL_MAX_TIMEOUT_MS', async () => {
    const s = await newStream(t, { events_requested: [`${EV}prov:delete`] });
    let started = Date.now();
    expect(await pollOnce(t, s.stream_id, {})).toEqual({ sets: {}, moreAvailable: false });
    const defaultWait = Date.now() - started;
    expect(defaultWait).toBeGreaterThanOrEqual(380); // 400 ms configured
    expect(defaultWait).toBeLessThan(10_000); // not the 30 s built-in default
    started = Date.now();
    expect(await pollOnce(t, s.stream_id, { timeoutSecs: 600 })).toEqual({ sets: {}, moreAvailable: false });
    const capped = Date.now() - started;
    expect(capped).toBeGreaterThanOrEqual(1450); // 1500 ms cap
    expect(capped).toBeLessThan(20_000); // not the 600 s asked for
  });

  it('§2.5: a long poll in one process is woken by a SET committed by another process (LISTEN/NOTIFY, not sleeping)', async () => {
    // A second API process on the same database, whose long poll would otherwise wait 30 s.
    const config2 = loadConfig({ DATABASE_URL: t.dbUrl, BASE_URL, LOG_LEVEL: 'silent', SCIMCAST_POLL_TIMEOUT_MS: '30000' });
    const deps2 = makeDeps(config2, t.database);
    const app2 = buildApp(deps2, { logger: false });
    await app2.ready();
    try {
      const s = await newStream(t, { events_requested: [`${EV}prov:create:notice`] });
      // Warm the second process's LISTEN connection with a first, short long poll.
      const pollVia2 = (body: unknown) =>
        app2.inject({ method: 'POST', url: `/ssf/streams/${s.stream_id}/poll`, headers: { authorization: `Bearer ${t.token}`, ...JSON_CT }, payload: JSON.stringify(body) });
      await pollVia2({ timeoutSecs: 0.2 });
      const pending = pollVia2({});
      await new Promise((r) => setTimeout(r, 300));
      await mkUser(t, 'woken-by-notify');
      const committed = Date.now();
      const res = await pending;
      const latency = Date.now() - committed;
      expect(res.statusCode).toBe(200);
      expect(Object.keys(res.json().sets)).toHaveLength(1);
      expect(latency).toBeLessThan(5_000); // milliseconds in practice; 30 s if it slept
    } finally {
      await app2.close();
      await deps2.close();
    }
  });
});

describe('keys and retention (RFC 8936 §2: SETs kept until acknowledged)', () => {
  let r: TestApp;
  beforeAll(async () => {
    r = await startTestApp({ SCIMCAST_EVENT_RETENTION_DAYS: '2', SCIMCAST_ASYNC_RETENTION_DAYS: '1' });
  });
  afterAll(async () => {
    await r?.close();
  });
  const pruneAt = (at: number) => makePrune({ ...r.deps, clock: { now: () => new Date(at) } })(undefined as never, undefined as never);

  it('SCIMCAST_EVENT_RETENTION_DAYS: unacknowledged SETs older than the retention become dead "expired" and are not served again; younger ones stay', async () => {
    const s = await newStream(r, { events_requested: [`${EV}prov:create:notice`] });
    await mkUser(r, 'retained');
    const t0 = Date.now();
    await pruneAt(t0 + 1.5 * DAY);
    expect(Object.keys((await pollOnce(r, s.stream_id, { returnImmediately: true })).sets)).toHaveLength(1);
    await pruneAt(t0 + 2 * DAY + 60_000);
    expect((await pollOnce(r, s.stream_id, { returnImmediately: true })).sets).toEqual({});
    const dead = (await r.req('GET', `/ssf/streams/${s.stream_id}/dead`)).json();
    expect(dead.sets).toEqual([expect.objectContaining({ err: 'expired', description: expect.stringMatching(/retention/) })]);
  });

  it('keys rotate: the old public key stays in /jwks.json while a stored SET was signed with it, and goes once none is left', async () => {
    const s = await newStream(r, { events_requested: [`${EV}prov:create:notice`] });
    await mkUser(r, 'signed-by-old-key');
    const oldSet = Object.values((await pollOnce(r, s.stream_id, { returnImmediately: true })).sets)[0]!;
    const oldKid = decodeProtectedHeader(oldSet).kid;
    const t0 = Date.now();
    const newKid = await rotateSigningKey(r.deps.storage, r.deps.clock, () => 'rot12345', 'RS256');
    expect((await jwksOf(r)).keys.map((k) => k.kid)).toEqual([newKid, oldKid]);
    // The receiver acknowledges it a day and a half later; it stays stored (replayable) for the retention after that.
    const ackAt = new Date(t0 + 1.5 * DAY);
    expect(await r.deps.storage.events.ack(s.stream_id, [Object.keys((await pollOnce(r, s.stream_id, { returnImmediately: true })).sets)[0]!], ackAt)).toBe(1);
    await pruneAt(t0 + 2 * DAY + 3_600_000);
    const jwks = await jwksOf(r);
    expect(jwks.keys.map((k) => k.kid)).toContain(oldKid);
    await expect(verifySet(oldSet, { jwks })).resolves.toMatchObject({ aud: [s.aud] });
    // Replayed, it is the same bytes, still verifiable.
    expect((await r.req('POST', `/ssf/streams/${s.stream_id}/replay`, { all: true }, { headers: JSON_CT })).json().replayed).toBe(1);
    expect(Object.values((await pollOnce(r, s.stream_id, { returnImmediately: true })).sets)).toEqual([oldSet]);
    // Once every SET the old key signed is gone (expired, then purged), its public key goes too.
    await pruneAt(t0 + 2 * DAY + 3_600_000 + 60_000); // the replayed SET is past retention: expired
    await pruneAt(t0 + 4.5 * DAY); // and purged
    expect((await jwksOf(r)).keys.map((k) => k.kid)).toEqual([newKid]);
  });

  it('keys rotate: the very next SET is signed with the new key', async () => {
    const s = await newStream(r, { events_requested: [`${EV}prov:create:notice`] });
    await mkUser(r, 'before-rotation');
    const before = Object.values((await pollOnce(r, s.stream_id, { returnImmediately: true })).sets)[0]!;
    const newKid = await rotateSigningKey(r.deps.storage, r.deps.clock, () => 'rot67890', 'ES256');
    expect(decodeProtectedHeader(before).kid).not.toBe(newKid);
    await mkUser(r, 'after-rotation');
    const sets = Object.values((await pollOnce(r, s.stream_id, { returnImmediately: true })).sets);
    expect(sets.map((j) => decodeProtectedHeader(j).kid)).toEqual([decodeProtectedHeader(before).kid, newKid]);
  });
});

describe('signing algorithms (ES256 default, RS256 and EdDSA selectable)', () => {
  for (const [alg, kty] of [
    ['RS256', 'RSA'],
    ['EdDSA', 'OKP'],
  ] as const) {
    it(`SCIMCAST_SIGNING_ALG=${alg}: SETs are signed ${alg}, verify against /jwks.json, and the JWKS has no private members`, async () => {
      const a = await startTestApp({ SCIMCAST_SIGNING_ALG: alg });
      try {
        const jwks = await jwksOf(a);
        expect(jwks.keys).toHaveLength(1);
        expect(jwks.keys[0]).toMatchObject({ kty, alg, use: 'sig', kid: expect.any(String) });
        for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(jwks.keys[0]).not.toHaveProperty(m);
        const s = await newStream(a, { events_requested: [`${EV}prov:create:notice`] });
        await mkUser(a, `alg-${alg}`);
        const { sets } = await pollOnce(a, s.stream_id, { returnImmediately: true });
        const [jws] = Object.values(sets);
        expect(decodeProtectedHeader(jws!)).toEqual({ alg, typ: 'secevent+jwt', kid: jwks.keys[0]!.kid });
        await expect(verifySet(jws!, { jwks, issuer: BASE_URL, audience: s.aud })).resolves.toMatchObject({ iss: BASE_URL });
      } finally {
        await a.close();
      }
    });
  }
});
