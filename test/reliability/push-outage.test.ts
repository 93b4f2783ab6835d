import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/storage/embedded.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { sleep } from '../helpers/procs.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';
import { distinctJtis, receivedSets } from '../helpers/sets.js';

/**
 * Push receivers that are down for a while in each way they go down: the port
 * refuses connections, the receiver hangs past SCIMCAST_PUSH_TIMEOUT_MS, it answers 500, it
 * answers 429 with Retry-After. SETs keep being committed throughout. For each stream: nothing
 * lost, first arrivals exactly in commit order (a retried SET may arrive twice: at least once,
 * deduplicated by jti), retries spaced by the backoff (RFC 8935 §4; no hot loop), and delivery
 * resumes by itself when the receiver is back. A healthy stream beside them is not held up.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';
const BACKOFF_BASE_MS = 200;
const TIMEOUT_MS = 400;
const OUTAGE_MS = 4_000;
const USERS = 24;

let t: TestApp;
let db: pg.Client;
const receivers: Receiver[] = [];
beforeAll(async () => {
  t = await startTestApp(
    { SCIMCAST_PUSH_BACKOFF_BASE_MS: String(BACKOFF_BASE_MS), SCIMCAST_PUSH_BACKOFF_CAP_MS: '1000', SCIMCAST_PUSH_TIMEOUT_MS: String(TIMEOUT_MS) },
    { worker: true },
  );
  db = new pg.Client({ connectionString: t.dbUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await t?.close();
  for (const r of receivers) await r.close();
});

async function stream(url: string) {
  const res = await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: url }, events_requested: [`${EV}prov:create:notice`] });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { stream_id: string; aud: string };
}

/** Push attempts the transmitter recorded on this stream's SETs (refused connections never reach a receiver). */
const failedAttempts = async (feedId: string) =>
  (await t.deps.storage.events.pending(feedId, 10_000)).reduce((sum, e) => sum + e.attempts, 0);

describe('push receivers down for a while', () => {
  it('lose nothing, keep commit order, back off, and resume by themselves', async () => {
    // refused: nothing listens on the port until the outage ends.
    const refusedPort = await freePort();
    const refused = { cfg: await stream(`http://127.0.0.1:${refusedPort}/events`), rec: undefined as Receiver | undefined };
    // hanging: answers only after the push timeout, so every attempt times out.
    const hanging = await startReceiver();
    hanging.delayMs = TIMEOUT_MS * 5;
    // failing: 500 to everything; throttling: 429 with Retry-After: 1.
    const failing = await startReceiver();
    failing.respond = () => ({ status: 500 });
    const throttling = await startReceiver();
    throttling.respond = () => ({ status: 429, headers: { 'retry-after': '1' } });
    const healthy = await startReceiver();
    receivers.push(hanging, failing, throttling, healthy);
    const down = [
      { name: 'hanging', rec: hanging, cfg: await stream(hanging.url) },
      { name: 'failing', rec: failing, cfg: await stream(failing.url) },
      { name: 'throttling', rec: throttling, cfg: await stream(throttling.url) },
    ];
    const ok = await stream(healthy.url);

    // SETs keep coming while the receivers are down.
    const outageStart = Date.now();
    for (let i = 0; i < USERS; i++) {
      const r = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `outage-${i}` });
      expect(r.statusCode).toBe(201);
      await sleep(OUTAGE_MS / USERS / 2);
    }
    // The healthy stream is not held up by the others.
    await until(() => distinctJtis(healthy.received) === USERS, 15_000);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStart)));
    const outageMs = Date.now() - outageStart;

    // Backoff: attempts during the outage are bounded by its length over the smallest backoff
    // delay (base/2 with full jitter), far from a hot loop; and each stream did retry.
    const attempts = {
      refused: await failedAttempts(refused.cfg.stream_id),
      hanging: hanging.received.length,
      failing: failing.received.length,
      throttling: throttling.received.length,
    };
    const bound = Math.ceil(outageMs / (BACKOFF_BASE_MS / 2)) + 2;
    console.log(`push attempts during a ${outageMs} ms outage (bound ${bound}): ${JSON.stringify(attempts)}`);
    for (const [name, n] of Object.entries(attempts)) {
      expect(n, `${name} attempts ${JSON.stringify(attempts)}`).toBeGreaterThanOrEqual(2);
      expect(n, `${name} attempts ${JSON.stringify(attempts)}`).toBeLessThanOrEqual(bound);
    }
    // Retry-After: 1 is honoured between 429s; a hanging receiver is given up on at the timeout.
    const gaps = (r: Receiver) => r.received.slice(1).map((x, i) => x.at - r.received[i]!.at);
    expect(Math.min(...gaps(throttling))).toBeGreaterThanOrEqual(950);
    expect(Math.min(...gaps(hanging))).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    // Nothing was dropped, dead-lettered or paused while they were down.
    for (const s of [...down, refused]) {
      const counts = await t.deps.storage.events.countsByState(s.cfg.stream_id);
      expect(counts.pending, s.cfg.stream_id).toBe(USERS);
      expect(counts.dead ?? 0).toBe(0);
      expect((await t.req('GET', `/ssf/status?stream_id=${s.cfg.stream_id}`)).json().status).toBe('enabled');
    }

    // The receivers come back; delivery resumes without anyone touching the streams.
    refused.rec = await startReceiver({ port: refusedPort });
    receivers.push(refused.rec);
    hanging.delayMs = 0;
    failing.respond = () => ({ status: 202 });
    throttling.respond = () => ({ status: 202 });
    const all = [...down, { name: 'refused', rec: refused.rec, cfg: refused.cfg }, { name: 'healthy', rec: healthy, cfg: ok }];
    await until(async () => {
      for (const s of all) if ((await t.deps.storage.events.countsByState(s.cfg.stream_id)).pending !== 0) return false;
      return true;
    }, 60_000);

    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    for (const s of all) {
      const got = await receivedSets(s.rec.received, jwks, s.cfg.aud);
      // Every SET at least once, first arrivals exactly in commit order (provisioning is order-sensitive, RFC 8417 §5.3).
      const committed = (await db.query('select jti from events where feed_id = $1 order by seq', [s.cfg.stream_id])).rows.map((r) => r.jti as string);
      expect(committed.length, s.name).toBe(USERS);
      expect(got.first.map((c) => c.jti as string), s.name).toEqual(committed);
      const names = got.first.map((c) => (c.sub_id as { uri: string }).uri);
      expect(new Set(names).size, s.name).toBe(USERS);
    }
  }, 120_000);
});
