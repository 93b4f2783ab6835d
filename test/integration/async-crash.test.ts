import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { untilFannedOut } from '../helpers/procs.js';
import { until } from '../helpers/receiver.js';

/**
 * A worker process killed with SIGKILL in the middle of a 5,000-operation async bulk
 * and restarted finishes with every operation applied exactly once and exactly one asyncresp per
 * operation. The API runs in this process; the worker is a real `scimcast worker` child.
 */
const ROOT = join(import.meta.dirname, '../..');
const OPS = Number(process.env.SCIMCAST_TEST_CRASH_OPS ?? 5000);
let t: TestApp;
let db: pg.Client;
const children: ChildProcess[] = [];

beforeAll(async () => {
  t = await startTestApp();
  db = new pg.Client({ connectionString: t.dbUrl });
  await db.connect();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await db?.end();
  await t?.close();
});

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, ['bin/scimcast.js', 'worker'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: t.dbUrl, BASE_URL, LOG_LEVEL: 'warn', SCIMCAST_WORKER_CONCURRENCY: '2' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  return child;
}

const count = async (sql: string, params: unknown[] = []) => Number((await db.query(sql, params)).rows[0].n);

describe('async bulk survives a SIGKILLed worker', () => {
  it(`applies each of ${OPS} operations exactly once with exactly one asyncresp each`, async () => {
    const feed = (await t.req('POST', '/ssf/streams', { events_requested: ['urn:ietf:params:scim:event:misc:asyncresp'] })).json();
    const Operations = Array.from({ length: OPS }, (_, i) => ({
      method: 'POST',
      path: '/Users',
      bulkId: `c${i}`,
      data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `crash-${i}` },
    }));
    const res = await t.req('POST', '/scim/v2/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations }, { headers: { prefer: 'respond-async' } });
    expect(res.statusCode).toBe(202);
    const txn = res.headers['set-txn'] as string;
    const done = () => count('select count(*)::int as n from txn_ops where txn_id = $1', [txn]);

    let worker = startWorker();
    await until(async () => (await done()) >= OPS / 5, 120_000);
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    const atKill = await done();
    expect(atKill).toBeLessThan(OPS);

    worker = startWorker();
    await until(async () => (await db.query('select status from txns where id = $1', [txn])).rows[0].status === 'completed', 240_000);
    // The last results' SETs are signed by the worker's fan-out just after they commit.
    await untilFannedOut((q) => db.query(q));
    worker.kill('SIGTERM');

    expect(await count('select count(*)::int as n from txn_ops where txn_id = $1', [txn])).toBe(OPS);
    expect(await count(`select count(*)::int as n from txn_ops where txn_id = $1 and status <> '201'`, [txn])).toBe(0);
    expect(await count(`select count(*)::int as n from resources where user_name like 'crash-%'`)).toBe(OPS);
    // Exactly one asyncresp per operation on the feed, with txn <Set-Txn>:<index>.
    expect(await count(`select count(*)::int as n from events where feed_id = $1 and event_uri like '%asyncresp'`, [feed.stream_id])).toBe(OPS);
    expect(await count(`select count(distinct txn)::int as n from events where feed_id = $1 and txn like $2`, [feed.stream_id, `${txn}:%`])).toBe(OPS);
    const status = (await t.req('GET', `/scim/v2/AsyncRequests/${txn}`)).json();
    expect(status.operationsCount).toEqual({ total: OPS, success: OPS, failed: 0, pending: 0 });
  }, 400_000);
});
