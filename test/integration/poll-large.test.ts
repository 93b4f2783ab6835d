import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySet } from '../../src/events/verify.js';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { metricSample, scrapeMetrics } from '../helpers/metrics.js';
import { until } from '../helpers/receiver.js';

/**
 * RFC 8936 poll with large pages and large acknowledgement lists, over real HTTP: thousands of
 * jtis acknowledged (or refused with setErrs) by one request, and the response written from the
 * stored SETs without re-serialising them still parses as JSON whose every SET verifies.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const CREATE = 'urn:ietf:params:scim:event:prov:create:full';
const MANY = 5_000;
const EXTRA = 10;

let t: TestApp;
let origin: string;
type Stream = { stream_id: string; aud: string };
let a: Stream;
let b: Stream;

async function http(path: string, body?: unknown) {
  const res = await fetch(`${origin}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${t.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function poll(s: Stream, body: Record<string, unknown>) {
  const res = await http(`/ssf/streams/${s.stream_id}/poll`, body);
  expect(res.status, res.bytes.toString()).toBe(200);
  return { ...res, json: JSON.parse(res.bytes.toString('utf8')) as { sets: Record<string, string>; moreAvailable: boolean } };
}

const counts = (s: Stream) => t.deps.storage.events.countsByState(s.stream_id);

beforeAll(async () => {
  // A page cap above the backlog, so one poll can return all of it; the worker runs as in production.
  t = await startTestApp({ SCIMCAST_POLL_PAGE_CAP: String(MANY + EXTRA) }, { worker: true });
  origin = await t.app.listen({ port: 0, host: '127.0.0.1' });
  const stream = async () => (await http('/ssf/streams', { events_requested: [CREATE] })).bytes;
  a = JSON.parse((await stream()).toString()) as Stream;
  b = JSON.parse((await stream()).toString()) as Stream;
  const Operations = Array.from({ length: MANY + EXTRA }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: { schemas: [USER], userName: `large-${i}` } }));
  const res = await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK], Operations });
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  // Both streams hold one SET per create once the change is fanned out.
  await until(async () => (await counts(a)).pending === MANY + EXTRA && (await counts(b)).pending === MANY + EXTRA, 120_000);
}, 240_000);
afterAll(async () => {
  await t?.close();
});

describe('RFC 8936 poll, large pages and acknowledgement lists, over HTTP', () => {
  let jtis: string[] = [];

  it('a page of 5,010 SETs is valid JSON with the right Content-Length; every SET verifies, names its jti and comes in commit order', async () => {
    const res = await poll(a, { returnImmediately: true, maxEvents: MANY + EXTRA });
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Number(res.headers.get('content-length'))).toBe(res.bytes.length);
    expect(res.json.moreAvailable).toBe(false);
    jtis = Object.keys(res.json.sets);
    expect(jtis).toHaveLength(MANY + EXTRA);
    const jwks = JSON.parse((await http('/jwks.json')).bytes.toString()) as never;
    const claims = await Promise.all(Object.values(res.json.sets).map((jws) => verifySet(jws, { jwks, issuer: BASE_URL, audience: a.aud })));
    expect(claims.map((c) => c.jti)).toEqual(jtis);
    // The bulk created large-0, large-1, … in order: the SETs follow that order.
    const names = claims.map((c) => (c.events[CREATE] as { data: { userName: string } }).data.userName);
    expect(names).toEqual(Array.from({ length: MANY + EXTRA }, (_, i) => `large-${i}`));
    expect((await t.deps.storage.events.byJti(jtis[0]!))?.jws).toBe(res.json.sets[jtis[0]!]);
    // A smaller page is the same SETs' prefix, with moreAvailable.
    const first = await poll(a, { returnImmediately: true, maxEvents: 3 });
    expect(Object.entries(first.json.sets)).toEqual(Object.entries(res.json.sets).slice(0, 3));
    expect(first.json.moreAvailable).toBe(true);
  });

  it('one request acknowledges 5,000 jtis: exactly those become acked and are never sent again; the rest and the other stream are untouched', async () => {
    const before = metricSample(await scrapeMetrics(t), 'scimcast_sets_acked_total', `stream="${a.stream_id}"`) ?? 0;
    const acked = jtis.slice(0, MANY);
    const res = await poll(a, { ack: acked, maxEvents: 0 });
    expect(res.json).toEqual({ sets: {}, moreAvailable: false });
    expect(await counts(a)).toEqual({ pending: EXTRA, delivered: 0, acked: MANY, dead: 0 });
    expect(await counts(b)).toEqual({ pending: MANY + EXTRA, delivered: 0, acked: 0, dead: 0 });
    expect(metricSample(await scrapeMetrics(t), 'scimcast_sets_acked_total', `stream="${a.stream_id}"`)).toBe(before + MANY);
    const rest = await poll(a, { returnImmediately: true });
    expect(Object.keys(rest.json.sets)).toEqual(jtis.slice(MANY));
    // Acknowledging them again, or acknowledging this stream's jtis on the other stream, changes nothing.
    await poll(a, { ack: acked, maxEvents: 0 });
    await poll(b, { ack: jtis, maxEvents: 0 });
    expect(await counts(a)).toEqual({ pending: EXTRA, delivered: 0, acked: MANY, dead: 0 });
    expect(await counts(b)).toEqual({ pending: MANY + EXTRA, delivered: 0, acked: 0, dead: 0 });
    expect(metricSample(await scrapeMetrics(t), 'scimcast_sets_acked_total', `stream="${a.stream_id}"`)).toBe(before + MANY);
  }, 60_000);

  it('setErrs for 5,000 jtis and an ack in one request: each refused SET is a dead letter with its err and description, then the page is read', async () => {
    const page = await poll(b, { returnImmediately: true, maxEvents: MANY + EXTRA });
    const bj = Object.keys(page.json.sets);
    const setErrs = Object.fromEntries(bj.slice(0, MANY).map((j, i) => [j, { err: i % 2 ? 'invalid_audience' : 'invalid_request', description: `refused ${i}` }]));
    const res = await poll(b, { ack: bj.slice(MANY, MANY + 2), setErrs, returnImmediately: true });
    // Acks and setErrs apply before the read: the response holds only what is still pending.
    expect(Object.keys(res.json.sets)).toEqual(bj.slice(MANY + 2));
    expect(await counts(b)).toEqual({ pending: EXTRA - 2, delivered: 0, acked: 2, dead: MANY });
    const dead = await t.deps.storage.events.byJti(bj[1]!);
    expect(dead).toMatchObject({ state: 'dead', errCode: 'invalid_audience', errDescription: 'refused 1' });
    const text = await scrapeMetrics(t);
    expect(metricSample(text, 'scimcast_sets_dead_total', `stream="${b.stream_id}",reason="invalid_request"`)).toBe(MANY / 2);
    expect(metricSample(text, 'scimcast_sets_dead_total', `stream="${b.stream_id}",reason="invalid_audience"`)).toBe(MANY / 2);
    // A setErr for a SET that is no longer pending (acked) changes nothing.
    await poll(b, { setErrs: { [bj[MANY]!]: { err: 'invalid_request' } }, maxEvents: 0 });
    expect((await t.deps.storage.events.byJti(bj[MANY]!))?.state).toBe('acked');
  }, 60_000);
});
