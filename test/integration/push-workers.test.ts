import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySet } from '../../src/events/verify.js';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { killAll, spawnScimcast, type Proc } from '../helpers/procs.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';

/**
 * Two `scimcast worker` processes on one database share push delivery; each SET
 * reaches the receiver once per successful attempt and every stream keeps commit order. The API
 * runs in this process without a worker of its own.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';
const N = 40;

let t: TestApp;
const receivers: Receiver[] = [];
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await killAll();
  for (const r of receivers) await r.close();
  await t?.close();
});

function startWorker(): Proc {
  return spawnScimcast(['worker'], { DATABASE_URL: t.dbUrl, BASE_URL, SCIMCAST_WORKER_CONCURRENCY: '4' });
}

describe('push with two worker processes', () => {
  it(`delivers ${N} SETs on each of three streams once each, in commit order per stream`, async () => {
    const streams: { rec: Receiver; cfg: { stream_id: string; aud: string } }[] = [];
    for (let i = 0; i < 3; i++) {
      const rec = await startReceiver();
      rec.delayMs = 5;
      receivers.push(rec);
      const cfg = (await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url }, events_requested: [`${EV}prov:create:notice`] })).json();
      streams.push({ rec, cfg: cfg as { stream_id: string; aud: string } });
    }
    startWorker();
    startWorker();
    for (let i = 0; i < N; i++) await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `two-workers-${i}` });
    await until(async () => {
      for (const s of streams) if (((await t.deps.storage.events.countsByState(s.cfg.stream_id)).delivered ?? 0) < N) return false;
      return true;
    }, 60_000);
    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    for (const s of streams) {
      const claims = await Promise.all(s.rec.received.map((r) => verifySet(r.body, { jwks, audience: s.cfg.aud })));
      const jtis = claims.map((c) => c.jti as string);
      expect(new Set(jtis).size).toBe(N); // nothing lost
      expect(jtis).toHaveLength(N); // nothing sent twice (every attempt succeeded)
      expect([...jtis].sort()).toEqual(jtis); // commit order (jti is time-ordered)
      const names = claims.map((c) => (c.sub_id as { uri: string }).uri);
      expect(new Set(names).size).toBe(N);
    }
  }, 90_000);
});
