import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { killAll, LONG, sleep, startWorkerProc, untilFannedOut, type Proc } from '../helpers/procs.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';
import { distinctJtis, pollAll, receivedSets } from '../helpers/sets.js';

/**
 * `scimcast worker` processes SIGKILLed again and again at random points of a large
 * async bulk (RFC 9967 §2.5.1.2), each replaced by a fresh one. Afterwards, as an operator would check:
 * every operation applied exactly once, exactly one result row and one asyncresp SET per
 * operation (txn `<txn>:<index>`, distinct jti), one resource per operation with its create SET,
 * and every SET delivered to the push receiver (deduplicated by jti, in commit order) and
 * pollable on the poll stream. The API runs in this process; only workers are killed.
 * Default: 5 kills during 2,000 operations; SCIMCAST_LONG_TESTS=1: 20 kills during 10,000.
 */
const OPS = LONG ? 10_000 : 2_000;
const KILLS = LONG ? 20 : 5;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';
// A killed worker's job locks are released this long after its last heartbeat.
const DEAD_AFTER_MS = 4_000;

let t: TestApp;
let db: pg.Client;
let rec: Receiver;

beforeAll(async () => {
  t = await startTestApp();
  db = new pg.Client({ connectionString: t.dbUrl });
  await db.connect();
  rec = await startReceiver();
});
afterAll(async () => {
  await killAll();
  await rec?.close();
  await db?.end();
  await t?.close();
});

const workerEnv = () => ({
  DATABASE_URL: t.dbUrl,
  BASE_URL,
  SCIMCAST_WORKER_CONCURRENCY: '2',
  SCIMCAST_WORKER_DEAD_AFTER_MS: String(DEAD_AFTER_MS),
  SCIMCAST_PUSH_BACKOFF_BASE_MS: '50',
  SCIMCAST_PUSH_BACKOFF_CAP_MS: '500',
});
const n = async (sql: string, params: unknown[] = []) => Number((await db.query(sql, params)).rows[0].n);
const beaten = (p: Proc) => async () => (await n(`select count(*)::int as n from worker_heartbeats where worker_id like $1`, [`%:${p.pid}:%`])) > 0;

describe(`async bulk of ${OPS} operations with its worker SIGKILLed ${KILLS} times`, () => {
  it('applies every operation exactly once, with exactly one asyncresp each, and delivers every SET', async () => {
    const log: string[] = [];
    onTestFailed(() => console.error(log.join('\n')));
    const push = (
      await t.req('POST', '/ssf/streams', {
        delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url },
        events_requested: [`${EV}misc:asyncresp`, `${EV}prov:create:notice`],
      })
    ).json() as { stream_id: string; aud: string };
    const poll = (await t.req('POST', '/ssf/streams', { events_requested: [`${EV}misc:asyncresp`] })).json() as { stream_id: string };

    const Operations = Array.from({ length: OPS }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `k${i}`, data: { schemas: [USER], userName: `killed-${i}` } }));
    const res = await t.req('POST', '/scim/v2/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations }, { headers: { prefer: 'respond-async' } });
    expect(res.statusCode, res.body).toBe(202);
    const txn = res.headers['set-txn'] as string;
    const done = () => n('select count(*)::int as n from txn_ops where txn_id = $1', [txn]);
    const completed = async () => (await db.query('select status from txns where id = $1', [txn])).rows[0].status === 'completed';
    const started = Date.now();

    // Each worker is killed at a random moment after it has made progress: during operations
    // while the bulk runs, during push delivery once it has finished.
    let killedDuringBulk = 0;
    for (let k = 0; k < KILLS; k++) {
      const w = await startWorkerProc(workerEnv(), undefined);
      const atStart = { ops: await done(), pushed: rec.received.length };
      await until(async () => (await done()) > atStart.ops || rec.received.length > atStart.pushed || w.child.exitCode !== null, 60_000);
      expect(w.child.exitCode, w.output()).toBeNull();
      // While the bulk runs, the kill lands inside the next batch of operations (a batch takes
      // far longer than 250 ms), so most kills interrupt operations however fast the machine is;
      // once it is complete, anywhere in the push delivery.
      const running = !(await completed());
      await sleep(Math.floor(Math.random() * (running ? 250 : 1500)));
      const bulkRunning = !(await completed());
      w.kill('SIGKILL');
      await w.exited;
      if (bulkRunning) killedDuringBulk++;
      log.push(`kill ${k + 1} at ${((Date.now() - started) / 1000).toFixed(1)} s: ${await done()} of ${OPS} operations, ${rec.received.length} pushes${bulkRunning ? '' : ' (bulk already complete)'}`);
    }
    // A last worker finishes the job.
    const last = await startWorkerProc(workerEnv(), undefined);
    await until(completed, LONG ? 900_000 : 300_000);
    await untilFannedOut((q) => db.query(q));
    log.push(`bulk completed at ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(killedDuringBulk).toBeGreaterThanOrEqual(Math.min(KILLS, 3));

    // Exactly once: one result per operation index, one resource per operation, all 201.
    expect(await n('select count(*)::int as n from txn_ops where txn_id = $1', [txn])).toBe(OPS);
    expect(await n('select count(distinct op_index)::int as n from txn_ops where txn_id = $1 and op_index between 0 and $2', [txn, OPS - 1])).toBe(OPS);
    expect(await n(`select count(*)::int as n from txn_ops where txn_id = $1 and status <> '201'`, [txn])).toBe(0);
    expect(await n(`select count(*)::int as n from resources where user_name like 'killed-%'`)).toBe(OPS);
    // Exactly one asyncresp per operation on each stream: txn <Set-Txn>:<index>, distinct jti.
    for (const feed of [push.stream_id, poll.stream_id]) {
      const r = (
        await db.query(
          `select count(*)::int as n, count(distinct jti)::int as jtis, count(distinct txn)::int as txns,
                  count(*) filter (where txn !~ ('^' || $2 || ':[0-9]+$'))::int as bad
           from events where feed_id = $1 and event_uri like '%asyncresp'`,
          [feed, txn],
        )
      ).rows[0];
      expect(r).toEqual({ n: OPS, jtis: OPS, txns: OPS, bad: 0 });
    }
    // Every created user has exactly one create SET on the push stream: no change without its event.
    const withoutOneCreate = `select count(*)::int as n from resources r where r.user_name like 'killed-%'
      and (select count(*) from events e where e.feed_id = $1 and e.event_uri like '%create%' and e.subject_uri = '/Users/' || r.id) <> 1`;
    expect(await n(withoutOneCreate, [push.stream_id])).toBe(0);
    // The status resource's own asyncresp copy (the Location form of RFC 9967 §2.5.1.1): one distinct jti per operation.
    expect(await n(`select count(distinct jti)::int as n from txn_ops where txn_id = $1 and set_jws is not null`, [txn])).toBe(OPS);
    const status = (await t.req('GET', `/scim/v2/AsyncRequests/${txn}`)).json();
    expect(status.operationsCount).toEqual({ total: OPS, success: OPS, failed: 0, pending: 0 });
    // Each operation names, per stream, the jti of the SET that stream holds: one identity per
    // (change, stream) although fan-outs were killed half way.
    const named = status.operations.flatMap((o: { sets: { stream_id: string; jti: string }[] }) => o.sets);
    expect(named).toHaveLength(OPS * 2);
    const held = await db.query(`select feed_id || ' ' || jti as k from events where feed_id = any($1) and event_uri like '%asyncresp'`, [[push.stream_id, poll.stream_id]]);
    expect(new Set(named.map((x: { stream_id: string; jti: string }) => `${x.stream_id} ${x.jti}`))).toEqual(new Set(held.rows.map((r) => r.k as string)));

    // Push: every SET reaches the receiver (at least once: dedupe by jti), first arrivals in
    // commit order (per-stream order, PUSH-*), none left pending.
    const expected = (await db.query('select jti from events where feed_id = $1 order by seq', [push.stream_id])).rows.map((r) => r.jti as string);
    expect(expected.length).toBe(2 * OPS);
    await until(async () => distinctJtis(rec.received) >= expected.length, LONG ? 600_000 : 240_000);
    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    const got = await receivedSets(rec.received, jwks, push.aud);
    log.push(`push: ${got.first.length} SETs, ${got.duplicates} redelivered after kills`);
    expect(got.first.map((c) => c.jti)).toEqual(expected);
    await until(async () => (await n(`select count(*)::int as n from events where feed_id = $1 and state = 'pending'`, [push.stream_id])) === 0, 60_000);

    // Poll: every SET is there, oldest first, exactly once.
    const polled = await pollAll(async (body) => (await t.req('POST', `/ssf/streams/${poll.stream_id}/poll`, body)).json(), jwks);
    expect(polled.length).toBe(OPS);
    expect(new Set(polled.map((c) => c.jti)).size).toBe(OPS);
    expect(new Set(polled.map((c) => c.txn))).toEqual(new Set(Array.from({ length: OPS }, (_, i) => `${txn}:${i}`)));

    last.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    console.log(log.join('\n'));
  }, LONG ? 1_800_000 : 600_000);
});

describe('single async creations applied together, their worker SIGKILLed while applying them', () => {
  it('each request is created once, ends completed once, and has exactly one result and one asyncresp SET', async () => {
    const COUNT = LONG ? 6_000 : 2_000;
    const log: string[] = [];
    onTestFailed(() => console.error(log.join('\n')));
    const poll = (await t.req('POST', '/ssf/streams', { events_requested: [`${EV}misc:asyncresp`] })).json() as { stream_id: string };
    // Admitted concurrently, so admission statements carry many creations and so their batch jobs.
    const txns: string[] = [];
    for (let i = 0; i < COUNT; i += 64) {
      const wave = await Promise.all(
        Array.from({ length: Math.min(64, COUNT - i) }, async (_, k) => {
          const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `together-killed-${i + k}` }, { headers: { prefer: 'respond-async' } });
          expect(res.statusCode, res.body).toBe(202);
          return res.headers['set-txn'] as string;
        }),
      );
      txns.push(...wave);
    }
    const batches = await n(`select count(*)::int as n from graphile_worker._private_jobs where json_typeof(payload) = 'array' and json_array_length(payload) > 1`);
    log.push(`${COUNT} requests admitted, ${batches} batch jobs of more than one`);
    expect(batches).toBeGreaterThan(0);
    const completed = () => n(`select count(*)::int as n from txns where id = any($1::text[]) and status = 'completed'`, [txns]);
    for (let k = 0; k < 3; k++) {
      const w = await startWorkerProc(workerEnv(), undefined);
      const before = await completed();
      await until(async () => (await completed()) > before || (await completed()) === COUNT || w.child.exitCode !== null, 60_000);
      await sleep(Math.floor(Math.random() * 100));
      w.kill('SIGKILL');
      await w.exited;
      log.push(`kill ${k + 1}: ${await completed()} of ${COUNT} completed`);
    }
    const last = await startWorkerProc(workerEnv(), undefined);
    await until(async () => (await completed()) === COUNT, 300_000);
    await untilFannedOut((q) => db.query(q));
    expect(await n(`select count(*)::int as n from resources where user_name like 'together-killed-%'`)).toBe(COUNT);
    expect(await n(`select count(*)::int as n from txn_ops where txn_id = any($1::text[]) and status = '201'`, [txns])).toBe(COUNT);
    expect(await n(`select count(*)::int as n from txns where id = any($1::text[]) and request is null`, [txns])).toBe(COUNT);
    const sets = (
      await db.query(`select count(*)::int as n, count(distinct txn)::int as txns from events where feed_id = $1 and event_uri like '%asyncresp'`, [poll.stream_id])
    ).rows[0];
    expect(sets).toEqual({ n: COUNT, txns: COUNT });
    last.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    console.log(log.join('\n'));
  }, LONG ? 1_800_000 : 600_000);
});
