import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { call, killAll, SHARED_BASE_URL, startServe, startWorkerProc } from '../helpers/procs.js';
import { until } from '../helpers/receiver.js';

/**
 * SIGTERM under load, as a process manager or a rolling deploy sends it. Requests
 * already being served finish with their real answer (no reset connection), work answered 202
 * stays queued and is finished by the next worker, nothing is lost, and the process exits 0.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

let dbUrl: string;
let drop: () => Promise<void>;
let db: pg.Client;
const env = (extra: Record<string, string> = {}) => ({ DATABASE_URL: dbUrl, BASE_URL: SHARED_BASE_URL, SCIMCAST_SHUTDOWN_TIMEOUT_MS: '10000', ...extra });
const n = async (sql: string, params: unknown[] = []) => Number((await db.query(sql, params)).rows[0].n);

beforeAll(async () => {
  ({ url: dbUrl, drop } = await createTestDatabase());
  db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
});
afterAll(async () => {
  await killAll();
  await db?.end();
  await drop?.();
});

const bulkOf = (prefix: string, count: number) => ({
  schemas: [BULK],
  Operations: Array.from({ length: count }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `${prefix}${i}`, data: { schemas: [USER], userName: `${prefix}-${i}` } })),
});

describe('SIGTERM during load', () => {
  it('an API process finishes the requests in flight, keeps accepted async work queued, and exits 0', async () => {
    const api = await startServe(env());
    onTestFailed(() => console.error(api.output()));
    // Accepted before the signal: async work this API-only process never runs itself.
    const accepted: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await call(api.base, 'POST', '/scim/v2/Users', { schemas: [USER], userName: `queued-${i}` }, { prefer: 'respond-async' });
      expect(r.status).toBe(202);
      accepted.push(r.headers.get('set-txn')!);
    }
    const bulk = await call(api.base, 'POST', '/scim/v2/Bulk', bulkOf('qb', 200), { prefer: 'respond-async' });
    expect(bulk.status).toBe(202);
    accepted.push(bulk.headers.get('set-txn')!);

    // In flight when the signal arrives: synchronous bulks that take a while, and single creates.
    const inFlight = [
      ...Array.from({ length: 3 }, (_, i) => call(api.base, 'POST', '/scim/v2/Bulk', bulkOf(`sb${i}`, 150))),
      ...Array.from({ length: 10 }, (_, i) => call(api.base, 'POST', '/scim/v2/Users', { schemas: [USER], userName: `inflight-${i}` })),
    ];
    await until(async () => (await n(`select count(*)::int as n from resources where user_name like 'sb%'`)) > 0, 30_000);
    const tKill = Date.now();
    api.kill('SIGTERM');
    const answers = await Promise.allSettled(inFlight.map((p, i) => p.then((v) => { console.log(i, 'ok', Date.now() - tKill, v.status); return v; }, (e) => { console.log(i, 'err', Date.now() - tKill, String(e.cause)); throw e; })));
    // Each got its real answer: no connection reset, no 5xx.
    for (const a of answers) {
      expect(a.status, a.status === 'rejected' ? `${String(a.reason)} ${String((a.reason as Error).cause)}` : '').toBe('fulfilled');
      if (a.status === 'fulfilled') expect([200, 201], a.value.text.slice(0, 200)).toContain(a.value.status);
    }
    const bulks = answers.slice(0, 3).map((a) => (a as PromiseFulfilledResult<{ json: { Operations: { status: string }[] } }>).value.json);
    for (const b of bulks) expect(b.Operations.map((o) => o.status)).toEqual(Array(150).fill('201'));
    expect(await api.exited).toBe(0);
    // Nothing half done: all 450 bulk users and the 10 creates exist.
    expect(await n(`select count(*)::int as n from resources where user_name like 'sb%' or user_name like 'inflight-%'`)).toBe(460);
    // New connections are refused once it is gone (no half-open listener).
    await expect(fetch(`${api.base}/healthz`)).rejects.toThrow();

    // The accepted async work was not lost: the next worker finishes every request.
    const worker = await startWorkerProc(env());
    await until(async () => (await n(`select count(*)::int as n from txns where id = any($1) and status = 'completed'`, [accepted])) === accepted.length, 120_000);
    expect(await n(`select count(*)::int as n from txn_ops where txn_id = any($1) and status = '201'`, [accepted])).toBe(205);
    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 240_000);

  it('a worker stopped in the middle of an async bulk exits 0 and the next worker resumes it at once', async () => {
    const api = await startServe(env());
    const OPS = 10_000;
    const bulk = await call(api.base, 'POST', '/scim/v2/Bulk', bulkOf('wb', OPS), { prefer: 'respond-async' });
    expect(bulk.status).toBe(202);
    const txn = bulk.headers.get('set-txn')!;
    const done = () => n('select count(*)::int as n from txn_ops where txn_id = $1', [txn]);
    // A dead-after far longer than the test: only a graceful release lets the next worker in.
    const slowRecovery = { SCIMCAST_WORKER_DEAD_AFTER_MS: '600000', SCIMCAST_SHUTDOWN_TIMEOUT_MS: '5000' };
    const first = await startWorkerProc(env(slowRecovery));
    onTestFailed(() => console.error(first.output()));
    await until(async () => (await done()) >= 50, 120_000);
    const t0 = Date.now();
    first.kill('SIGTERM');
    const code = await first.exited;
    const stopMs = Date.now() - t0;
    const atStop = await done();
    console.log(`worker SIGTERM: exit ${code} after ${stopMs} ms with ${atStop} of ${OPS} operations done`);
    expect(code).toBe(0);

    const second = await startWorkerProc(env(slowRecovery), async () => (await n(`select count(*)::int as n from worker_heartbeats`)) > 0);
    await until(async () => (await db.query('select status from txns where id = $1', [txn])).rows[0].status === 'completed', 120_000);
    expect(await done()).toBe(OPS);
    expect(await n(`select count(*)::int as n from resources where user_name like 'wb-%'`)).toBe(OPS);
    second.kill('SIGTERM');
    api.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(await api.exited).toBe(0);
  }, 240_000);
});
