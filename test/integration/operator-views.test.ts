import { afterAll, describe, expect, it } from 'vitest';
import { rotateSigningKey } from '../../src/events/key-store.js';
import { useTestApp } from '../helpers/app.js';
import { pushStreamTo } from '../helpers/push-stream.js';
import { until, type Receiver } from '../helpers/receiver.js';

/**
 * The figures the operator console reads: per-stream profile, backlog and deliveries per minute in
 * the stream stats; the signing keys (GET /admin/keys); health with worker heartbeats and backlog
 * totals (GET /admin/health). Real worker, real push receiver on loopback.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

const t = useTestApp({}, { worker: true });
const receivers: Receiver[] = [];
afterAll(async () => {
  for (const r of receivers) await r.close();
});

let activeId = '';
let pausedId = '';
const mkUser = async (userName: string) => expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName })).statusCode).toBe(201);
const stats = async (id: string) => (await t.req('GET', `/ssf/streams/${id}/stats`)).json();

describe('stream stats for the console', () => {
  it('show the profile, the backlog and the SETs delivered in each of the last 60 minutes', async () => {
    const { rec, id } = await pushStreamTo(t, receivers);
    activeId = id;
    const fresh = await stats(id);
    expect(fresh).toMatchObject({ stream_id: id, profile: 'rfc9967', backlog: 0, counts: { pending: 0 } });
    expect(fresh.delivered_per_minute).toEqual(new Array(60).fill(0));

    await mkUser('views-1');
    await mkUser('views-2');
    await until(async () => (await stats(id)).counts.delivered === 2);
    const s = await stats(id);
    expect(rec.received).toHaveLength(2);
    expect(s.delivered_per_minute).toHaveLength(60);
    // Both went out within the last minute or two (the test may straddle a minute boundary).
    expect(s.delivered_per_minute.slice(-2).reduce((a: number, b: number) => a + b, 0)).toBe(2);
    expect(s.delivered_per_minute.slice(0, -2).every((n: number) => n === 0)).toBe(true);
  });

  it('a paused stream shows its pending SETs as backlog', async () => {
    const { id } = await pushStreamTo(t, receivers);
    pausedId = id;
    expect((await t.req('POST', '/ssf/status', { stream_id: id, status: 'paused' })).statusCode).toBe(200);
    await mkUser('views-paused');
    // The user's SET waits, with the stream-updated SET of the pause (SSF 1.0 §8.1.2) if it has one.
    await until(async () => (await stats(id)).backlog >= 1);
    const s = await stats(id);
    expect(s.backlog).toBe(s.counts.pending);
  });
});

describe('GET /admin/keys', () => {
  it('lists active and retired keys with kid, alg, state and age, and never a private key', async () => {
    const before = (await t.req('GET', '/admin/keys')).json();
    expect(before.keys).toHaveLength(1);
    expect(before.keys[0]).toMatchObject({ state: 'active', kid: expect.any(String), alg: expect.any(String), retired_at: null, revoked_at: null, age_seconds: expect.any(Number) });
    const kid = await rotateSigningKey(t.deps.storage, t.deps.clock, () => 'console-test', 'ES256');
    const res = await t.req('GET', '/admin/keys');
    expect(res.statusCode).toBe(200);
    const { keys } = res.json();
    expect(keys.map((k: { kid: string; state: string }) => [k.kid, k.state])).toEqual([
      [kid, 'active'],
      [before.keys[0].kid, 'retired'],
    ]);
    expect(keys[1].retired_at).toEqual(expect.any(String));
    // No private JWK member, not even the public one: a JWK's private parts are d, p, q, dp, dq, qi.
    expect(res.body).not.toMatch(/"(d|p|q|dp|dq|qi|private_?jwk|privateJwk)"\s*:/i);
  });

  it('refuses a token without the admin scope (403) and a missing token (401)', async () => {
    const feedsOnly = await t.tokenWith(['feeds:admin', 'metrics:read']);
    const refused = await t.req('GET', '/admin/keys', undefined, { auth: feedsOnly });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ status: '403', detail: expect.stringContaining('admin') });
    expect((await t.req('GET', '/admin/keys', undefined, { auth: null })).statusCode).toBe(401);
  });
});

describe('GET /admin/health', () => {
  it('shows readiness, the database, the live worker with its last heartbeat, and backlog totals', async () => {
    // Settled first: every change fanned out, and the active stream has delivered what it got
    // (the paused stream's user was a SET for it too).
    const waitingChanges = async () => (await t.database.pool.query<{ n: number }>('select count(*)::int as n from changes')).rows[0]!.n;
    await until(async () => (await waitingChanges()) === 0 && (await stats(activeId)).backlog === 0);
    const pausedBacklog = (await stats(pausedId)).backlog;
    expect(pausedBacklog).toBeGreaterThanOrEqual(1);
    const res = await t.req('GET', '/admin/health');
    expect(res.statusCode).toBe(200);
    const h = res.json();
    expect(h).toMatchObject({ status: 'ready', database: 'ok', worker: 'ok' });
    expect(h.workers.length).toBeGreaterThanOrEqual(1);
    expect(h.workers[0]).toMatchObject({ id: expect.any(String), alive: true, age_seconds: expect.any(Number) });
    expect(Date.parse(h.workers[0].last_heartbeat)).not.toBeNaN();
    // The paused stream above holds the only pending SETs.
    expect(h.backlog).toMatchObject({ pending: pausedBacklog, streams_behind: 1, dead: 0, oldest_pending_age_seconds: expect.any(Number) });
    expect(h.backlog.streams).toBeGreaterThanOrEqual(2);
  });

  it('refuses a token without metrics:read (403)', async () => {
    const readOnly = await t.tokenWith(['scim:read']);
    const refused = await t.req('GET', '/admin/health', undefined, { auth: readOnly });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['www-authenticate']).toMatch(/scope="metrics:read"/);
    expect((await t.req('GET', '/admin/health', undefined, { auth: await t.tokenWith(['metrics:read']) })).statusCode).toBe(200);
  });
});
