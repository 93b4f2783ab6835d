import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { call, killAll, LONG, SHARED_BASE_URL, startServe, startWorkerProc, untilFannedOut, type ApiProc } from '../helpers/procs.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';
import { distinctJtis, pollAll, receivedSets } from '../helpers/sets.js';

/**
 * Two `scimcast serve --no-worker` and two `scimcast worker` processes on one
 * database, under concurrent clients. Uniqueness holds under identical creates, If-Match races
 * have exactly one winner (412 for the rest, RFC 7644 §3.14), concurrent member adds lose no
 * update, and under mixed load every SET reaches the push receiver once, each subject's SETs in
 * the order of its changes (RFC 8417 §5.3), and the poll stream has them all.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const EV = 'urn:ietf:params:scim:event:';

let dbUrl: string;
let drop: () => Promise<void>;
let db: pg.Client;
let apis: ApiProc[] = [];
const receivers: Receiver[] = [];

beforeAll(async () => {
  ({ url: dbUrl, drop } = await createTestDatabase());
  db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  const env = { DATABASE_URL: dbUrl, BASE_URL: SHARED_BASE_URL, SCIMCAST_WORKER_CONCURRENCY: '4', SCIMCAST_PUSH_BACKOFF_BASE_MS: '50', SCIMCAST_PUSH_BACKOFF_CAP_MS: '500' };
  // All four start at once, as replicas do: migrations, signing key and token are raced too.
  const started = await Promise.all([
    startServe(env),
    startServe(env),
    startWorkerProc(env, async () => Number((await db.query('select count(*)::int as n from worker_heartbeats')).rows[0].n) >= 1),
    startWorkerProc(env, async () => Number((await db.query('select count(*)::int as n from worker_heartbeats')).rows[0].n) >= 2),
  ]);
  apis = started.slice(0, 2) as ApiProc[];
}, 180_000);
afterAll(async () => {
  await killAll();
  for (const r of receivers) await r.close();
  await db?.end();
  await drop?.();
});

const api = (i: number) => apis[i % 2]!.base;
const n = async (sql: string, params: unknown[] = []) => Number((await db.query(sql, params)).rows[0].n);

describe('two API and two worker processes on one database', () => {
  it('concurrent identical creates make exactly one resource; the rest get 409 uniqueness', async () => {
    const ROUNDS = LONG ? 20 : 6;
    const CLIENTS = 16;
    for (let r = 0; r < ROUNDS; r++) {
      // userName is unique case-insensitively (RFC 7643 §4.1): vary the case too.
      const answers = await Promise.all(
        Array.from({ length: CLIENTS }, (_, i) => call(api(i), 'POST', '/scim/v2/Users', { schemas: [USER], userName: i % 2 ? `dup-${r}` : `DUP-${r}` })),
      );
      const created = answers.filter((a) => a.status === 201);
      const conflicts = answers.filter((a) => a.status === 409);
      expect(created, answers.map((a) => `${a.status} ${a.text}`).join('\n')).toHaveLength(1);
      expect(conflicts).toHaveLength(CLIENTS - 1);
      for (const c of conflicts) expect(c.json).toMatchObject({ status: '409', scimType: 'uniqueness' });
      expect(await n(`select count(*)::int as n from resources where lower(user_name) = $1`, [`dup-${r}`])).toBe(1);
    }
    // The signing key, like the users, exists once even though four processes started together.
    expect(await n(`select count(*)::int as n from signing_keys where retired_at is null`)).toBe(1);
  });

  it('concurrent PUT and PATCH with the same If-Match: exactly one wins, the rest get 412', async () => {
    const CLIENTS = 12;
    const created = await call(api(0), 'POST', '/scim/v2/Users', { schemas: [USER], userName: 'etag-race' });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    let etag = created.headers.get('etag')!;
    const puts = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        call(api(i), 'PUT', `/scim/v2/Users/${id}`, { schemas: [USER], userName: 'etag-race', displayName: `put-${i}` }, { 'if-match': etag }),
      ),
    );
    expect(puts.map((p) => p.status).sort()).toEqual([200, ...Array(CLIENTS - 1).fill(412)]);
    for (const p of puts.filter((x) => x.status === 412)) expect(p.json).toMatchObject({ status: '412' });
    const winner = puts.find((p) => p.status === 200)!;
    etag = winner.headers.get('etag')!;
    const read = await call(api(1), 'GET', `/scim/v2/Users/${id}`);
    expect(read.json.displayName).toBe(winner.json.displayName);

    const patches = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        call(api(i), 'PATCH', `/scim/v2/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: `t-${i}` }] }, { 'if-match': etag }),
      ),
    );
    expect(patches.map((p) => p.status).sort()).toEqual([200, ...Array(CLIENTS - 1).fill(412)]);
    // Two changes won, so the version moved exactly twice.
    expect(await n(`select version as n from resources where id = $1`, [id])).toBe(3);
  });

  it('concurrent member adds to one group lose no update', async () => {
    const MEMBERS = LONG ? 40 : 16;
    const users = await Promise.all(Array.from({ length: MEMBERS }, (_, i) => call(api(i), 'POST', '/scim/v2/Users', { schemas: [USER], userName: `member-${i}` })));
    const group = await call(api(0), 'POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'crowd' });
    const adds = await Promise.all(
      users.map((u, i) => call(api(i), 'PATCH', `/scim/v2/Groups/${group.json.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: u.json.id }] }] })),
    );
    expect(adds.map((a) => a.status)).toEqual(Array(MEMBERS).fill(204));
    const read = await call(api(1), 'GET', `/scim/v2/Groups/${group.json.id}`);
    expect(new Set((read.json.members as { value: string }[]).map((m) => m.value))).toEqual(new Set(users.map((u) => u.json.id)));
  });

  it('under mixed load every SET reaches the push receiver once, in each subject’s change order, and is pollable', async () => {
    const rec = await startReceiver();
    receivers.push(rec);
    const events = ['prov:create:notice', 'prov:put:notice', 'prov:patch:notice', 'prov:delete', 'misc:asyncresp'].map((e) => `${EV}${e}`);
    const push = await call(api(0), 'POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url }, events_requested: events });
    const poll = await call(api(1), 'POST', '/ssf/streams', { events_requested: events });
    expect(push.status, push.text).toBe(201);
    expect(poll.status, poll.text).toBe(201);

    // A few hot users everyone writes to, plus creates, deletes and async requests.
    const hot = await Promise.all(Array.from({ length: 6 }, (_, i) => call(api(i), 'POST', '/scim/v2/Users', { schemas: [USER], userName: `hot-${i}` })));
    const hotIds = hot.map((h) => h.json.id as string);
    const statuses = new Map<number, number>();
    const txns: string[] = [];
    const DURATION = LONG ? 30_000 : 6_000;
    const end = Date.now() + DURATION;
    let seq = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        while (Date.now() < end) {
          const k = seq++;
          const base = api(k);
          const h = Math.floor(k / 6) % hotIds.length;
          let r;
          switch (k % 6) {
            case 0:
            case 1:
              r = await call(base, 'PATCH', `/scim/v2/Users/${hotIds[h]}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: `c${c}-${k}` }] });
              break;
            case 2:
              r = await call(base, 'PUT', `/scim/v2/Users/${hotIds[h]}`, { schemas: [USER], userName: `hot-${h}`, displayName: `c${c}-${k}` });
              break;
            case 3: {
              r = await call(base, 'POST', '/scim/v2/Users', { schemas: [USER], userName: `mixed-${k}` });
              if (r.status === 201 && k % 12 === 3) r = await call(api(k + 1), 'DELETE', `/scim/v2/Users/${r.json.id}`);
              break;
            }
            default:
              r = await call(base, 'POST', '/scim/v2/Users', { schemas: [USER], userName: `async-${k}` }, { prefer: 'respond-async' });
              if (r.status === 202) txns.push(r.headers.get('set-txn')!);
          }
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
      }),
    );
    expect([...statuses.keys()].every((s) => [200, 201, 202, 204].includes(s)), JSON.stringify([...statuses])).toBe(true);
    // The workers finish every async request.
    await until(async () => (await n(`select count(*)::int as n from txns where id = any($1) and status = 'completed'`, [txns])) === txns.length, 120_000);

    const feedId = push.json.stream_id as string;
    await untilFannedOut((q) => db.query(q));
    const committed = (await db.query('select jti, subject_uri from events where feed_id = $1 order by seq', [feedId])).rows as { jti: string; subject_uri: string }[];
    await until(() => distinctJtis(rec.received) >= committed.length, 120_000);
    await until(async () => (await n(`select count(*)::int as n from events where feed_id = $1 and state = 'pending'`, [feedId])) === 0, 30_000);
    const jwks = (await (await fetch(`${api(0)}/jwks.json`)).json()) as never;
    const got = await receivedSets(rec.received, jwks, push.json.aud);
    // Nothing lost, nothing sent twice (every attempt succeeded).
    expect(got.first.length).toBe(committed.length);
    expect(got.duplicates).toBe(0);
    expect(new Set(got.first.map((c) => c.jti))).toEqual(new Set(committed.map((e) => e.jti)));
    // Each subject's SETs arrive in the order of its changes: the same order as stored, and
    // versions strictly increasing.
    const bySubject = new Map<string, string[]>();
    for (const e of committed) bySubject.set(e.subject_uri, [...(bySubject.get(e.subject_uri) ?? []), e.jti]);
    const arrived = new Map<string, { jti: string; version?: string }[]>();
    for (const c of got.first) {
      const uri = (c.sub_id as { uri: string }).uri;
      const payload = Object.values(c.events)[0] as { version?: string };
      arrived.set(uri, [...(arrived.get(uri) ?? []), { jti: c.jti, version: payload.version }]);
    }
    for (const [uri, jtis] of bySubject) {
      if (!uri.startsWith('/Users/')) continue;
      const seen = arrived.get(uri) ?? [];
      expect(seen.map((s) => s.jti), uri).toEqual(jtis);
    }
    for (const id of hotIds) {
      const versions = (arrived.get(`/Users/${id}`) ?? []).map((s) => s.version).filter((v): v is string => v !== undefined).map((v) => Number(/\d+/.exec(v)![0]));
      expect(versions.length).toBeGreaterThan(1);
      expect(versions.every((v, i) => i === 0 || v > versions[i - 1]!), `/Users/${id} ${versions.join(',')}`).toBe(true);
    }

    // Poll: the same SETs, each once.
    const polled = await pollAll(async (body) => (await call(api(1), 'POST', `/ssf/streams/${poll.json.stream_id}/poll`, body, { 'content-type': 'application/json' })).json, jwks);
    const pollCount = await n('select count(*)::int as n from events where feed_id = $1', [poll.json.stream_id]);
    expect(polled.length).toBe(pollCount);
    expect(pollCount).toBe(committed.length);
    expect(new Set(polled.map((c) => c.jti)).size).toBe(pollCount);
  }, 300_000);
});
