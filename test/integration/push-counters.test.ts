import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySet } from '../../src/events/verify.js';
import { makePrune } from '../../src/worker/tasks/prune.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';
import { jtiOf } from '../helpers/sets.js';
import { metricSample, scrapeMetrics } from '../helpers/metrics.js';
import { pushStreamTo } from '../helpers/push-stream.js';

/**
 * What push delivery counts. The misbehaving limit counts a SET's
 * consecutive misbehaving answers only; a redriven or replayed SET's retention restarts when it
 * is requeued; SETs expired by retention show in scimcast_sets_dead_total{reason="expired"}.
 * Real loopback receivers, a real graphile-worker, real Postgres, the real prune task.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';
const STREAM_UPDATED = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated';
const JSON_CT = { 'content-type': 'application/json' };
const DAY = 86_400_000;
const RETENTION_DAYS = 2;
const LIMIT = 3;

/** The app's clock: the system clock, moved back while a test makes "old" SETs. */
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };

let t: TestApp;
const receivers: Receiver[] = [];
beforeAll(async () => {
  t = await startTestApp(
    {
      SCIMCAST_PUSH_BACKOFF_BASE_MS: '20',
      SCIMCAST_PUSH_BACKOFF_CAP_MS: '100',
      SCIMCAST_PUSH_TIMEOUT_MS: '2000',
      SCIMCAST_PUSH_MISBEHAVING_LIMIT: String(LIMIT),
      SCIMCAST_EVENT_RETENTION_DAYS: String(RETENTION_DAYS),
    },
    { worker: true, clock },
  );
});
afterAll(async () => {
  await t?.close();
  for (const r of receivers) await r.close();
});

const pushStream = () => pushStreamTo(t, receivers);
async function pollStream() {
  const res = await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:create:notice`] }, { headers: JSON_CT });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { stream_id: string }).stream_id;
}
let n = 0;
const mkUsers = async (k: number) => {
  for (let i = 0; i < k; i++) expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `pc-${n++}` })).statusCode).toBe(201);
};
const counts = (id: string) => t.deps.storage.events.countsByState(id);
const status = async (id: string) => (await t.req('GET', `/ssf/status?stream_id=${id}`)).json() as { status: string; reason?: string };
const eventOf = async (jws: string) => Object.entries((await verifySet(jws, { jwks: (await t.req('GET', '/jwks.json', undefined, { auth: null })).json() })).events)[0]!;
const setErr = (err: string) => ({ status: 400, headers: JSON_CT, body: JSON.stringify({ err, description: `because ${err}` }) });
/** The hourly prune task, run as if the clock read `at`. */
const pruneAt = (at: number) => makePrune({ ...t.deps, clock: { now: () => new Date(at) } })(undefined as never, undefined as never);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe('the misbehaving limit counts consecutive misbehaving answers', () => {
  it(`503, 503, then 200: the stream is not disabled (only 1 of ${LIMIT} misbehaving answers in a row); the SET is retried and delivered`, async () => {
    const { rec, id } = await pushStream();
    rec.respond = (k) => (k < 2 ? { status: 503 } : k === 2 ? { status: 200 } : { status: 202 });
    await mkUsers(1);
    await until(async () => (await counts(id)).delivered === 1);
    expect(await status(id)).toMatchObject({ status: 'enabled' });
    expect(await status(id)).not.toHaveProperty('reason');
    expect(rec.received).toHaveLength(4);
    expect(new Set(rec.received.map((r) => jtiOf(r.body))).size).toBe(1); // the same SET each time
    expect(await counts(id)).toMatchObject({ pending: 0, delivered: 1, dead: 0 }); // no stream-updated SET either
    const text = await scrapeMetrics(t);
    expect(metricSample(text, 'scimcast_push_attempts_total', `stream="${id}",outcome="retry"`)).toBe(2);
    expect(metricSample(text, 'scimcast_push_attempts_total', `stream="${id}",outcome="misbehaving"`)).toBe(1);
    expect(metricSample(text, 'scimcast_push_attempts_total', `stream="${id}",outcome="delivered"`)).toBe(1);
  });

  it(`${LIMIT} consecutive 200s disable the stream with a reason and a stream-updated SET; a 503 in between starts the count again`, async () => {
    const { rec, id } = await pushStream();
    // 200 200 | 503 | 200 200 200: the third 200 in a row is the sixth misbehaving answer overall.
    const script = [503, 503, 200, 200, 503, 200, 200, 200];
    rec.respond = (k) => ({ status: script[k] ?? 202 });
    await mkUsers(1);
    await until(async () => (await status(id)).status === 'disabled');
    expect((await status(id)).reason).toMatch(/200.*202/);
    expect(rec.received).toHaveLength(script.length);
    expect(new Set(rec.received.map((r) => jtiOf(r.body))).size).toBe(1);
    // The SET is kept, followed by the transmitter's stream-updated SET announcing the disable.
    const pending = await t.deps.storage.events.pending(id, 10);
    expect(pending.map((e) => e.eventUri)).toEqual([`${EV}prov:create:notice`, STREAM_UPDATED]);
    expect((await eventOf(pending[1]!.jws))[1]).toEqual({ status: 'disabled', reason: expect.stringMatching(/200.*202/) });
    const text = await scrapeMetrics(t);
    expect(metricSample(text, 'scimcast_push_attempts_total', `stream="${id}",outcome="misbehaving"`)).toBe(5);
    expect(metricSample(text, 'scimcast_push_attempts_total', `stream="${id}",outcome="retry"`)).toBe(3);
    // Disabled: nothing more is sent.
    await sleep(400);
    expect(rec.received).toHaveLength(script.length);
  });
});

describe('a redriven or replayed SET gets a new retention', () => {
  it('an old dead SET redriven and an old delivered SET replayed stay pending at a prune past their original retention, and are delivered', async () => {
    const { rec, id } = await pushStream();
    rec.respond = (k) => (k === 0 ? setErr('invalid_request') : { status: 202 });
    // Two SETs made an hour more than the retention ago: the first rejected (dead), the second delivered.
    offsetMs = -(RETENTION_DAYS * DAY + 3_600_000);
    try {
      await mkUsers(2);
      await until(async () => (await counts(id)).delivered === 1 && (await counts(id)).dead === 1);
    } finally {
      offsetMs = 0;
    }
    const [dead] = (await t.req('GET', `/ssf/streams/${id}/dead`)).json().sets as { jti: string; created_at: string }[];
    expect(Date.now() - Date.parse(dead!.created_at)).toBeGreaterThan(RETENTION_DAYS * DAY);
    const delivered = jtiOf(rec.received[1]!.body);

    // The receiver is unavailable while the operator requeues them: they stay pending, retried.
    rec.respond = () => ({ status: 503 });
    const seen = rec.received.length;
    expect((await t.req('POST', `/ssf/streams/${id}/redrive`, { jti: dead!.jti }, { headers: JSON_CT })).json()).toEqual({ stream_id: id, redriven: 1 });
    expect((await t.req('POST', `/ssf/streams/${id}/replay`, { jti: delivered }, { headers: JSON_CT })).json()).toEqual({ stream_id: id, replayed: 1 });
    await until(() => rec.received.length >= seen + 2);

    // The next hourly prune: past the SETs' original retention, well within the retention of the requeue.
    await pruneAt(Date.now() + 3_600_000);
    expect(await counts(id)).toMatchObject({ pending: 2, dead: 0 });
    expect((await t.req('GET', `/ssf/streams/${id}/dead`)).json().sets).toEqual([]);
    const stats = (await t.req('GET', `/ssf/streams/${id}/stats`)).json();
    expect(stats.oldest_pending_age_seconds).toBeLessThan(600); // waiting since the requeue, not for days
    expect(metricSample(await scrapeMetrics(t), 'scimcast_sets_dead_total', `stream="${id}",reason="expired"`)).toBeUndefined();

    // The receiver is back: both arrive, in commit order, same bytes.
    rec.respond = () => ({ status: 202 });
    await until(async () => (await counts(id)).delivered === 2);
    const last = rec.received.slice(-2).map((r) => jtiOf(r.body));
    expect(last).toEqual([dead!.jti, delivered]);
    expect(await counts(id)).toMatchObject({ pending: 0, delivered: 2, dead: 0 });
  });

  it('a requeued SET that stays pending for the retention after the requeue does expire', async () => {
    const { rec, id } = await pushStream();
    rec.respond = () => setErr('invalid_request');
    await mkUsers(1);
    await until(async () => (await counts(id)).dead === 1);
    rec.respond = () => ({ status: 500 });
    const requeuedAt = Date.now();
    expect((await t.req('POST', `/ssf/streams/${id}/redrive`, { all: true }, { headers: JSON_CT })).json()).toEqual({ stream_id: id, redriven: 1 });
    await until(() => rec.received.length >= 2);
    await pruneAt(requeuedAt + RETENTION_DAYS * DAY + 60_000);
    expect(await counts(id)).toMatchObject({ pending: 0, dead: 1 });
    expect((await t.req('GET', `/ssf/streams/${id}/dead`)).json().sets).toEqual([expect.objectContaining({ err: 'expired' })]);
  });
});

describe('expired SETs are counted in /metrics', () => {
  it('scimcast_sets_dead_total{reason="expired"} counts SETs expired by retention, per stream, push and poll, once; a receiver\'s own err "expired" counts as "other"', async () => {
    const push = await pushStream();
    push.rec.respond = () => ({ status: 500 }); // retried until the retention ends
    const poll = await pollStream(); // never polled
    const liar = await pushStream();
    liar.rec.respond = () => setErr('expired'); // a receiver's code, not the retention
    await mkUsers(2);
    await until(async () => (await counts(liar.id)).dead === 2 && push.rec.received.length >= 2);
    const before = await scrapeMetrics(t);
    expect(metricSample(before, 'scimcast_sets_dead_total', `stream="${push.id}",reason="expired"`)).toBeUndefined();
    expect(metricSample(before, 'scimcast_sets_dead_total', `stream="${liar.id}",reason="other"`)).toBe(2);

    const t0 = Date.now();
    await pruneAt(t0 + RETENTION_DAYS * DAY + 60_000);
    expect(await counts(push.id)).toMatchObject({ pending: 0, dead: 2 });
    expect(await counts(poll)).toMatchObject({ pending: 0, dead: 2 });
    const text = await scrapeMetrics(t);
    expect(metricSample(text, 'scimcast_sets_dead_total', `stream="${push.id}",reason="expired"`)).toBe(2);
    expect(metricSample(text, 'scimcast_sets_dead_total', `stream="${poll}",reason="expired"`)).toBe(2);
    expect(metricSample(text, 'scimcast_sets_dead_total', `stream="${liar.id}",reason="expired"`)).toBeUndefined();
    expect(metricSample(text, 'scimcast_sets_dead_total', `stream="${liar.id}",reason="other"`)).toBe(2);
    // The counter agrees with the dead-letter gauge read from the database.
    expect(metricSample(text, 'scimcast_stream_sets', `stream="${push.id}",state="dead"`)).toBe(2);
    expect(text).toMatch(/# HELP scimcast_sets_dead_total .*expired/);

    // A later prune does not count them again.
    await pruneAt(t0 + RETENTION_DAYS * DAY + 120_000);
    expect(metricSample(await scrapeMetrics(t), 'scimcast_sets_dead_total', `stream="${push.id}",reason="expired"`)).toBe(2);
  });
});
