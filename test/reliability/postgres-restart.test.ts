import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/storage/embedded.js';
import { call, killAll, sleep, startServe, type ApiProc } from '../helpers/procs.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';

/**
 * PostgreSQL stopped under load and started again. The service must tell the truth
 * while the database is away (/readyz 503, SCIM 503 errors, no crash) and recover by itself: the
 * pool reconnects, the worker picks jobs up again, nothing needs a restart.
 * The database is a private embedded PostgreSQL this file starts and stops; the shared one of
 * the global setup is never touched.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';
const BULK = 500;
const receivers: Receiver[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'scimcast-pgrestart-'));
let pg: EmbeddedPostgres | undefined;
let api: ApiProc;

beforeAll(async () => {
  pg = await startEmbeddedPostgres({ dataDir, fast: true });
  api = await startServe({ DATABASE_URL: pg.url('scimcast'), SCIMCAST_WORKER_DEAD_AFTER_MS: '3000' }, { worker: true });
}, 120_000);
afterAll(async () => {
  await killAll();
  for (const r of receivers) await r.close();
  await pg?.stop().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
});

interface Tally {
  statuses: Map<number, number>;
  bad: string[];
  created: string[];
}

/** Clients creating users in a loop until `stop()`: every answer must be 201 or a SCIM 503. */
function load(clients: number, prefix: string) {
  const tally: Tally = { statuses: new Map(), bad: [], created: [] };
  let running = true;
  let n = 0;
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      const userName = `${prefix}-${n++}`;
      try {
        const r = await call(api.base, 'POST', '/scim/v2/Users', { schemas: [USER], userName });
        tally.statuses.set(r.status, (tally.statuses.get(r.status) ?? 0) + 1);
        if (r.status === 201) tally.created.push(userName);
        else if (r.status !== 503 || r.json?.status !== '503' || !r.json?.schemas?.[0]?.endsWith(':Error')) tally.bad.push(`${r.status} ${r.text}`);
      } catch (e) {
        tally.bad.push(`transport: ${String(e)}`);
      }
      await sleep(20);
    }
  });
  return { tally, stop: async () => ((running = false), await Promise.all(loops)) };
}

describe('PostgreSQL restarted under load', () => {
  it('answers 503 while the database is away and recovers without a restart', async () => {
    onTestFailed(() => console.error(`scimcast serve output:\n${api.output().slice(-5000)}`));
    expect((await fetch(`${api.base}/readyz`)).status).toBe(200);
    // Work in flight when the database goes: an async bulk and push delivery.
    const rec = await startReceiver();
    receivers.push(rec);
    const stream = await call(api.base, 'POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url }, events_requested: [`${EV}prov:create:notice`] });
    expect(stream.status, stream.text).toBe(201);
    const Operations = Array.from({ length: BULK }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: { schemas: [USER], userName: `bulk-${i}` } }));
    const bulk = await call(api.base, 'POST', '/scim/v2/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations }, { prefer: 'respond-async' });
    expect(bulk.status, bulk.text).toBe(202);
    const bulkTxn = bulk.headers.get('set-txn')!;
    const before = load(4, 'before');
    await until(() => before.tally.created.length >= 20, 30_000);

    await pg!.stop();
    pg = undefined;
    // /readyz reflects the outage; the process stays up and answers SCIM errors, not resets.
    await until(async () => (await fetch(`${api.base}/readyz`)).status === 503, 15_000);
    const ready = (await (await fetch(`${api.base}/readyz`)).json()) as { database: string };
    expect(ready.database).toBe('unreachable');
    const during = (await before.stop(), load(4, 'during'));
    await sleep(2_000);
    await during.stop();
    expect(during.tally.statuses.get(503) ?? 0, JSON.stringify([...during.tally.statuses], null, 0) + during.tally.bad.slice(0, 3).join("\n")).toBeGreaterThan(0);
    expect(during.tally.bad, during.tally.bad.slice(0, 3).join('\n')).toEqual([]);
    expect(before.tally.bad.filter((b) => !b.startsWith('503')), before.tally.bad.slice(0, 3).join('\n')).toEqual([]);
    expect(api.child.exitCode).toBeNull();

    pg = await startEmbeddedPostgres({ dataDir, fast: true });
    await until(async () => (await fetch(`${api.base}/readyz`)).status === 200, 60_000);
    const after = load(4, 'after');
    await until(() => after.tally.created.length >= 20, 30_000);
    await after.stop();
    expect(after.tally.bad, after.tally.bad.slice(0, 3).join('\n')).toEqual([]);

    // Every 201 before the outage is still there; nothing answered 201 was lost.
    for (const name of [...before.tally.created.slice(0, 5), ...after.tally.created.slice(0, 5)]) {
      const r = await call(api.base, 'GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`);
      expect(r.json.totalResults, name).toBe(1);
    }
    // The worker reconnected too: the bulk interrupted by the outage finishes, a new async
    // request completes, and every SET reaches the push receiver.
    await until(async () => (await call(api.base, 'GET', `/scim/v2/AsyncRequests/${bulkTxn}`)).json?.status === 'completed', 120_000);
    const bulkStatus = (await call(api.base, 'GET', `/scim/v2/AsyncRequests/${bulkTxn}`)).json;
    expect(bulkStatus.operationsCount).toEqual({ total: BULK, success: BULK, failed: 0, pending: 0 });
    const accepted = await call(api.base, 'POST', '/scim/v2/Users', { schemas: [USER], userName: 'async-after-restart' }, { prefer: 'respond-async' });
    expect(accepted.status).toBe(202);
    const txn = accepted.headers.get('set-txn')!;
    await until(async () => (await call(api.base, 'GET', `/scim/v2/AsyncRequests/${txn}`)).json?.status === 'completed', 60_000);
    const created = (await call(api.base, 'GET', '/scim/v2/Users?count=0')).json.totalResults as number;
    const received = async () => new Set(rec.received.map((r) => r.body)).size;
    await until(async () => (await received()) >= created, 120_000);
    expect(await received()).toBe(created);
    expect(api.child.exitCode).toBeNull();
  }, 300_000);
});
