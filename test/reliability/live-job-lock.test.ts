import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';

/**
 * Crash recovery releases the job locks of workers with no fresh heartbeat (src/worker/run.ts).
 * graphile-worker 0.17 locks jobs with its worker *pool* id, not the per-slot worker ids; when
 * only the latter were in the heartbeat, a live worker's job that ran longer than
 * SCIMCAST_WORKER_DEAD_AFTER_MS was "released" while still running and taken again, so a long
 * push run sent SETs twice (found by the LONG concurrency test: 193 duplicate deliveries).
 * A live job is never taken twice, so no SET is sent twice beyond at-least-once retries.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';

let t: TestApp;
let rec: Receiver;
beforeAll(async () => {
  // The smallest dead-after the config accepts: heartbeats every 100 ms, locks older than 600 ms
  // of workers without a heartbeat are released.
  t = await startTestApp({ SCIMCAST_WORKER_DEAD_AFTER_MS: '600', SCIMCAST_WORKER_CONCURRENCY: '4', SCIMCAST_PUSH_TIMEOUT_MS: '10000' }, { worker: true });
  rec = await startReceiver();
});
afterAll(async () => {
  await t?.close();
  await rec?.close();
});

describe('a live worker keeps the locks of its long jobs', () => {
  it('a push run longer than the dead-after time is not taken again: each SET arrives once', async () => {
    // Each answer takes 1.5 s, so one delivery job runs for several dead-after periods.
    rec.delayMs = 1_500;
    const s = await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url }, events_requested: [`${EV}prov:create:notice`] });
    expect(s.statusCode, s.body).toBe(201);
    for (let i = 0; i < 3; i++) expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `slow-${i}` })).statusCode).toBe(201);
    const id = s.json().stream_id as string;
    await until(async () => (await t.deps.storage.events.countsByState(id)).delivered === 3, 30_000);
    // Time for a wrongly released job to have been taken again and pushed once more.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(rec.received.length).toBe(3);
    expect(rec.maxInFlight).toBe(1);
  }, 60_000);
});
