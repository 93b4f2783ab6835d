import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { admit, jobsFor, type Admissions } from '../../src/async/accept.js';
import type { EnqueueOptions, TxnRow } from '../../src/storage/index.js';
import { startWorker } from '../../src/worker/run.js';
import { useTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/receiver.js';

/**
 * Single async creations admitted together share one graphile-worker batch job, and the worker
 * creates them in one transaction (async/apply-together.ts). Each request still ends as it would
 * alone: its own status, result, Location and asyncresp SET; a creation that fails fails alone.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ASYNCRESP = 'urn:ietf:params:scim:event:misc:asyncresp';

// No worker until each test has written its batch; the test starts one, and stops it.
const t = useTestApp();

async function withWorker(app: TestApp, body: () => Promise<void>): Promise<void> {
  const worker = await startWorker(app.deps, app.database.pool);
  try {
    await body();
  } finally {
    await worker.stop();
  }
}

/**
 * Creations admitted by one admission statement, as the group commit writes those that arrive
 * while a statement is in flight (async/accept.ts), for the owner of the test's token. Written
 * here in one statement on purpose: whether HTTP requests overlap is up to timing.
 */
async function admitTogether(app: TestApp, names: string[]): Promise<string[]> {
  const first = await app.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `${names[0]}.owner-probe` }, { headers: { prefer: 'respond-async' } });
  const owner = (await app.database.pool.query<{ owner: string }>('select owner from txns where id = $1', [first.headers['set-txn']])).rows[0]!.owner;
  await app.database.pool.query(`delete from graphile_worker._private_jobs`);
  await app.database.pool.query(`delete from txns`);
  const stored: { row: TxnRow; job: EnqueueOptions }[] = [];
  const collect: Admissions = async (row, job) => void stored.push({ row, job });
  const d = { admissions: collect, clock: app.deps.clock, ids: app.deps.ids, retentionMs: 86_400_000 };
  const txns: string[] = [];
  for (const userName of names) {
    txns.push(await admit(d, { owner, kind: 'single', method: 'POST', path: '/Users', request: { method: 'POST', type: 'User', body: { schemas: [USER], userName } }, opCount: 1 }));
  }
  await app.deps.storage.txns.insertWithJobs(stored, jobsFor(stored));
  return txns;
}

/** The apply_async_request jobs waiting, with their payloads. */
const queued = async (app: TestApp) =>
  (
    await app.database.pool.query<{ payload: unknown }>(
      `select j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks k on k.id = j.task_id where k.identifier = 'apply_async_request' order by j.id`,
    )
  ).rows.map((r) => r.payload);

const statusOf = async (app: TestApp, txn: string) => (await app.req('GET', `/scim/v2/AsyncRequests/${txn}`)).json();

async function finished(app: TestApp, txns: string[]) {
  await until(async () => (await Promise.all(txns.map((x) => statusOf(app, x)))).every((s) => s.status === 'completed'), 30_000);
}

describe('single creations admitted together (one batch job, one transaction)', () => {
  it('share a job and a commit; each request gets its own 201 result, Location and asyncresp SET', async () => {
    const app = t;
    const stream = (await app.req('POST', '/ssf/streams', { events_requested: [ASYNCRESP] })).json() as { stream_id: string };
    const names = Array.from({ length: 12 }, (_, i) => `together.${i}`);
    const txns = await admitTogether(app, names);
    // One batch job for the twelve, in admission order.
    expect(await queued(app)).toEqual([txns.map((txnId) => ({ txnId }))]);
    await withWorker(app, () => finished(app, txns));
    for (const [k, txn] of txns.entries()) {
      const s = await statusOf(app, txn);
      expect(s.operations).toMatchObject([{ status: '201', location: expect.stringMatching(/\/scim\/v2\/Users\/[0-9a-f-]{36}$/) }]);
      const user = await app.req('GET', (s.operations[0].location as string).replace(/^.*\/scim\/v2/, '/scim/v2'));
      expect(user.json().userName).toBe(names[k]);
    }
    // They committed together: the users and the requests' ends carry one transaction id (the
    // results' rows are updated again by the fan-out, which records the SETs each stream got).
    const xids = await app.database.pool.query<{ n: number }>(
      `select count(distinct x)::int as n from (select xmin::text as x from resources where user_name = any($2::text[]) union all select xmin::text from txns where id = any($1::text[])) t`,
      [txns, names],
    );
    expect(xids.rows[0]!.n).toBe(1);
    // One asyncresp SET per request, with the request's own txn (RFC 9967 §2.5.1).
    const seen: string[] = [];
    await until(async () => {
      const { sets } = (await app.req('POST', `/ssf/streams/${stream.stream_id}/poll`, { returnImmediately: true, maxEvents: 100, ack: [] })).json() as { sets: Record<string, string> };
      for (const [jti, jws] of Object.entries(sets)) {
        seen.push(JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()).txn as string);
        await app.req('POST', `/ssf/streams/${stream.stream_id}/poll`, { returnImmediately: true, maxEvents: 0, ack: [jti] });
      }
      return seen.length >= txns.length;
    });
    expect(seen.sort()).toEqual([...txns].sort());
  });

  it('a userName taken (by an earlier user, or by another request of the same job) fails that request alone; the others are created', async () => {
    const app = t;
    expect((await app.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'taken.taken' })).statusCode).toBe(201);
    const names = ['taken.a', 'taken.taken', 'taken.b', 'taken.twice', 'taken.twice', 'taken.c'];
    const txns = await admitTogether(app, names);
    expect(await queued(app)).toEqual([txns.map((txnId) => ({ txnId }))]);
    await withWorker(app, () => finished(app, txns));
    const results = await Promise.all(txns.map(async (x) => (await statusOf(app, x)).operations[0]));
    // Alone, in admission order: the first of the two requests for one userName gets it.
    expect(results.map((r) => r.status)).toEqual(['201', '409', '201', '201', '409', '201']);
    expect(results[1].response).toMatchObject({ status: '409', scimType: 'uniqueness' });
    expect(results[4].response).toMatchObject({ status: '409', scimType: 'uniqueness' });
    const count = await app.database.pool.query<{ n: number }>(`select count(*)::int as n from resources where user_name like 'taken.%'`);
    expect(count.rows[0]!.n).toBe(5);
  });
  it('a batch starts only when every request is still pending, and its lock reads the requests by key, never the stored results', async () => {
    const app = t;
    const txns = await admitTogether(app, ['lock.a', 'lock.b', 'lock.c']);
    // A burst's finished requests and their results, in tables no ANALYZE has seen yet.
    await app.database.pool.query(
      `insert into txns (id, owner, kind, method, path, op_count, status, created_at, last_modified, expires_at)
       select 'burst' || g, 'o', 'single', 'POST', '/Users', 1, 'completed', now(), now(), now() + interval '1 day' from generate_series(1, 20000) g`,
    );
    await app.database.pool.query(`insert into txn_ops (txn_id, op_index, method, status, done_at) select 'burst' || g, 0, 'POST', '201', now() from generate_series(1, 20000) g`);
    const statements: string[] = [];
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
      const q = a[0] as { text?: string } | string;
      const text = typeof q === 'string' ? q : q?.text;
      if (text && /^with locked as/.test(text)) statements.push(text);
      return (query as (...x: unknown[]) => unknown).apply(this, a);
    } as typeof query;
    try {
      expect(await app.deps.storage.withTx((s) => s.txns.lockAllPending(txns))).toBe(true);
      // Another executor finished one of them in the meantime (its result and its end commit together).
      await app.database.pool.query(`update txns set status = 'completed', request = null where id = $1`, [txns[1]]);
      expect(await app.deps.storage.withTx((s) => s.txns.lockAllPending(txns))).toBe(false);
      // Or started it (a request stored before single requests ended in one commit).
      await app.database.pool.query(`update txns set status = 'running' where id = $1`, [txns[2]]);
      expect(await app.deps.storage.withTx((s) => s.txns.lockAllPending([txns[0]!, txns[2]!]))).toBe(false);
      expect(await app.deps.storage.withTx((s) => s.txns.lockAllPending([txns[0]!]))).toBe(true);
    } finally {
      pg.Client.prototype.query = query;
    }
    // The plan PostgreSQL keeps for it: the primary key of txns, whatever the statistics say (a
    // burst into a new database has none), and no read of txn_ops, which grows with every result.
    const plan = (await app.database.pool.query<{ 'QUERY PLAN': string }>(`explain (generic_plan) ${statements[0]}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);
    expect(plan).not.toMatch(/Seq Scan|txn_ops/);
  });
});
