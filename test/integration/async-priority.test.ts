import { afterEach, describe, expect, it } from 'vitest';
import { startWorker, type WorkerHandle } from '../../src/worker/run.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * Prefer: respond-async, priority=high|normal|low (a scimcast extension). One worker slot
 * (SCIMCAST_WORKER_CONCURRENCY=1) makes the order in which requests are applied observable.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const ASYNCRESP = 'urn:ietf:params:scim:event:misc:asyncresp';

interface Status {
  status: string;
  percentComplete: number;
  lastModified: string;
}

let t: TestApp | undefined;
let worker: WorkerHandle | undefined;
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await t?.close();
  t = undefined;
});

const bulkOf = (tag: string, n: number) => ({
  schemas: [BULK],
  Operations: Array.from({ length: n }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: { schemas: [USER], userName: `${tag}-${i}` } })),
});

async function admit(app: TestApp, path: string, body: unknown, prefer: string): Promise<string> {
  const res = await app.req('POST', path, body, { headers: { prefer } });
  expect(res.statusCode, res.body).toBe(202);
  return res.headers['set-txn'] as string;
}

const status = async (app: TestApp, txn: string) => (await app.req('GET', `/scim/v2/AsyncRequests/${txn}`, undefined, { settle: false })).json() as Status;

async function until<T>(what: string, fn: () => Promise<T | undefined>, everyMs = 20, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `everyMs`: a bulk's status lists every operation, so it is asked for less often. */
const completed = (app: TestApp, txn: string, everyMs = 20) =>
  until(
    `${txn} to complete`,
    async () => {
      const s = await status(app, txn);
      return s.status === 'completed' ? s : undefined;
    },
    everyMs,
  );

const finishedAt = async (app: TestApp, txn: string, everyMs?: number) => Date.parse((await completed(app, txn, everyMs)).lastModified);

describe('Prefer priority=… (a scimcast extension)', () => {
  it('a high-priority request admitted while a 10,000-operation bulk runs is applied, and its asyncresp SET sent, before the bulk’s remaining batches', async () => {
    t = await startTestApp({ SCIMCAST_WORKER_CONCURRENCY: '1' }, { worker: true });
    const app = t;
    const feed = (await app.req('POST', '/ssf/streams', { events_requested: [ASYNCRESP] })).json() as { stream_id: string };
    const bulk = await admit(app, '/scim/v2/Bulk', bulkOf('prio-bulk', 10_000), 'respond-async');
    await until('the bulk to start', async () => ((await status(app, bulk)).percentComplete > 0 ? true : undefined), 100);
    const normal = await admit(app, '/scim/v2/Users', { schemas: [USER], userName: 'prio-normal' }, 'respond-async');
    const res = await app.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'prio-high' }, { headers: { prefer: 'respond-async, priority=high' } });
    expect(res.statusCode).toBe(202);
    expect(res.headers['preference-applied']).toBe('respond-async, priority=high');
    const high = res.headers['set-txn'] as string;

    await completed(app, high);
    // The bulk gave way between two batches: most of it is still to do, and the normal request
    // admitted before the high one still waits behind the bulk (FIFO within a priority).
    expect((await status(app, bulk)).percentComplete).toBeLessThan(100);
    expect((await status(app, normal)).status).toBe('pending');

    // The high request's asyncresp SET reaches the stream before the SETs of the bulk's rest.
    let bulkSetsBefore = 0;
    await until('the high request’s asyncresp SET', async () => {
      const { sets } = (await app.req('POST', `/ssf/streams/${feed.stream_id}/poll`, { returnImmediately: true, maxEvents: 1000, ack: [] })).json() as { sets: Record<string, string> };
      const txns = Object.values(sets).map((jws) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()).txn as string);
      const ack = Object.keys(sets);
      if (ack.length > 0) await app.req('POST', `/ssf/streams/${feed.stream_id}/poll`, { returnImmediately: true, maxEvents: 0, ack });
      bulkSetsBefore += txns.filter((x) => x.startsWith(`${bulk}:`)).length;
      return txns.includes(high) ? true : undefined;
    });
    expect(bulkSetsBefore).toBeLessThan(10_000);

    const bulkDone = await finishedAt(app, bulk, 500);
    expect(await finishedAt(app, normal)).toBeGreaterThanOrEqual(bulkDone);
    const done = (await app.req('GET', `/scim/v2/AsyncRequests/${bulk}`)).json() as { operationsCount: { success: number } };
    expect(done.operationsCount.success).toBe(10_000);
  }, 180_000);

  it('queued requests run by priority, and in admission order within a priority', async () => {
    t = await startTestApp({ SCIMCAST_WORKER_CONCURRENCY: '1' });
    const app = t;
    const one = (name: string, priority?: string) => admit(app, '/scim/v2/Users', { schemas: [USER], userName: `order-${name}` }, priority ? `respond-async, priority=${priority}` : 'respond-async');
    const bulk = await admit(app, '/scim/v2/Bulk', bulkOf('order-bulk', 600), 'respond-async');
    const n1 = await one('n1');
    const l1 = await one('l1', 'low');
    const n2 = await one('n2', 'normal');
    const h1 = await one('h1', 'high');
    const l2 = await one('l2', 'low');
    const h2 = await one('h2', 'HIGH');
    worker = await startWorker(app.deps, app.database.pool);
    const expected = [h1, h2, bulk, n1, n2, l1, l2];
    const times = new Map<string, number>();
    for (const txn of expected) times.set(txn, await finishedAt(app, txn, txn === bulk ? 200 : 20));
    const actual = [...expected].sort((a, b) => times.get(a)! - times.get(b)!);
    expect(actual).toEqual(expected);
  }, 120_000);

  it('no priority starves: a low request that has waited moves up until it runs ahead of high work admitted after it', async () => {
    t = await startTestApp({ SCIMCAST_WORKER_CONCURRENCY: '1', SCIMCAST_ASYNC_PRIORITY_AGING_MS: '200' });
    const app = t;
    const low = await admit(app, '/scim/v2/Users', { schemas: [USER], userName: 'aging-low' }, 'respond-async, priority=low');
    const highs: string[] = [];
    for (let i = 0; i < 400; i += 20) {
      highs.push(...(await Promise.all(Array.from({ length: 20 }, (_, k) => admit(app, '/scim/v2/Users', { schemas: [USER], userName: `aging-high-${i + k}` }, 'respond-async, priority=high')))));
    }
    worker = await startWorker(app.deps, app.database.pool);
    const lowDone = await finishedAt(app, low);
    const highTimes: number[] = [];
    for (const h of highs) highTimes.push(await finishedAt(app, h));
    // Strict priority would run all 400 first. Aged twice (low → normal → high) within about
    // 2 × 200 ms, the low request, admitted first, runs next among the high ones.
    expect(highTimes.filter((x) => x < lowDone).length).toBeLessThan(200);
  }, 120_000);

  it('an unknown priority is ignored (RFC 7240 §2): normal, and not echoed', async () => {
    t = await startTestApp({});
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'prio-unknown' }, { headers: { prefer: 'respond-async, priority=urgent' } });
    expect(res.statusCode).toBe(202);
    expect(res.headers['preference-applied']).toBe('respond-async');
  });
});
