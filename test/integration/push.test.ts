import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySet } from '../../src/events/verify.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';

let t: TestApp;
const receivers: Receiver[] = [];
beforeAll(async () => {
  t = await startTestApp({ SCIMCAST_PUSH_BACKOFF_BASE_MS: '20', SCIMCAST_PUSH_BACKOFF_CAP_MS: '100', SCIMCAST_PUSH_TIMEOUT_MS: '2000' }, { worker: true });
});
afterAll(async () => {
  await t?.close();
  for (const r of receivers) await r.close();
});

async function pushStream(extra: Record<string, unknown> = {}) {
  const rec = await startReceiver();
  receivers.push(rec);
  const res = await t.req('POST', '/ssf/streams', {
    delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url, authorization_header: 'Bearer receiver-secret' },
    events_requested: [`${EV}prov:create:notice`],
    ...extra,
  });
  expect(res.statusCode, res.body).toBe(201);
  const cfg = res.json();
  expect(cfg.delivery).toEqual({ method: 'urn:ietf:rfc:8935', endpoint_url: rec.url });
  return { rec, cfg: cfg as { stream_id: string; aud: string } };
}

const mkUsers = async (prefix: string, n: number) => {
  for (let i = 0; i < n; i++) await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `${prefix}-${i}` });
};
const userNameOf = async (jws: string) => {
  const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
  const c = await verifySet(jws, { jwks });
  return c.sub_id as { uri: string };
};
const counts = (id: string) => t.deps.storage.events.countsByState(id);
/** Nothing left to send, counted after the fan-out has signed every committed change (a status
 *  change's stream-updated SET is signed just after it commits, so the backlog can look empty first). */
const drained = async (id: string) => (await t.settle(), (await counts(id)).pending === 0);

describe('RFC 8935 push delivery', () => {
  it('POSTs each SET with exactly the RFC 8935 headers, in commit order, and marks it delivered on 202', async () => {
    const { rec, cfg } = await pushStream();
    await mkUsers('push-ok', 3);
    // The first push of the file also waits for the worker's start, which a loaded machine slows.
    await until(() => rec.received.length === 3, 45_000);
    for (const r of rec.received) {
      expect(r.headers['content-type']).toBe('application/secevent+jwt');
      expect(r.headers.accept).toBe('application/json');
      expect(r.headers.authorization).toBe('Bearer receiver-secret');
    }
    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    const claims = await Promise.all(rec.received.map((r) => verifySet(r.body, { jwks, audience: cfg.aud })));
    const jtis = claims.map((c) => c.jti);
    expect([...jtis].sort()).toEqual(jtis); // time-ordered jti, delivered oldest first
    await until(async () => (await counts(cfg.stream_id)).delivered === 3);
    expect(await counts(cfg.stream_id)).toMatchObject({ pending: 0, delivered: 3 });
  });

  it('max_in_flight opens a window of several SETs in flight; one by default', async () => {
    const one = await pushStream();
    const four = await pushStream({ max_in_flight: 4 });
    for (const s of [one, four]) {
      s.rec.delayMs = 150;
      await t.req('POST', '/ssf/status', { stream_id: s.cfg.stream_id, status: 'paused' });
    }
    await mkUsers('push-window', 8);
    for (const s of [one, four]) await t.req('POST', '/ssf/status', { stream_id: s.cfg.stream_id, status: 'enabled' });
    // 8 creations plus the stream-updated SETs of the pause and the resume (OpenID SSF 1.0 §8.1.5).
    const done = async (id: string) => (await counts(id)).pending === 0 && ((await counts(id)).delivered ?? 0) >= 8;
    await until(async () => (await done(one.cfg.stream_id)) && (await done(four.cfg.stream_id)));
    expect(one.rec.maxInFlight).toBe(1);
    expect(four.rec.maxInFlight).toBeGreaterThan(1);
    expect(four.rec.maxInFlight).toBeLessThanOrEqual(4);
  });

  it('5xx and connection trouble are retried with backoff; order is kept and nothing is lost', async () => {
    const { rec, cfg } = await pushStream();
    rec.respond = (n) => (n < 3 ? { status: 500 } : { status: 202 });
    await mkUsers('push-retry', 3);
    await until(async () => (await counts(cfg.stream_id)).delivered === 3);
    // The first SET was tried until it succeeded, then the rest followed in order.
    const delivered = rec.received.slice(3);
    expect(rec.received.slice(0, 4).map((r) => r.body)).toEqual([rec.received[0]!.body, rec.received[0]!.body, rec.received[0]!.body, rec.received[0]!.body]);
    const uris = await Promise.all(delivered.map(async (r) => (await userNameOf(r.body)).uri));
    expect(new Set(uris).size).toBe(3);
  });

  it('400 with {err, description} dead-letters that SET and goes on with the next', async () => {
    const { rec, cfg } = await pushStream();
    rec.respond = (n) => (n === 0 ? { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ err: 'invalid_request', description: 'bad payload' }) } : { status: 202 });
    await mkUsers('push-reject', 2);
    await until(async () => (await counts(cfg.stream_id)).delivered === 1);
    const dead = await t.deps.storage.events.dead(cfg.stream_id, 10);
    expect(dead).toMatchObject([{ errCode: 'invalid_request', errDescription: 'bad payload' }]);
    // The dead letter counts the attempt the receiver rejected.
    expect((await t.req('GET', `/ssf/streams/${cfg.stream_id}/dead`)).json().sets).toEqual([expect.objectContaining({ err: 'invalid_request', attempts: 1 })]);
  });

  it('401 pauses the stream (SETs kept); resuming delivers them', async () => {
    const { rec, cfg } = await pushStream();
    rec.respond = (n) => (n === 0 ? { status: 401 } : { status: 202 });
    await mkUsers('push-auth', 2);
    await until(async () => (await t.req('GET', `/ssf/status?stream_id=${cfg.stream_id}`)).json().status === 'paused');
    expect((await t.req('GET', `/ssf/status?stream_id=${cfg.stream_id}`)).json().reason).toMatch(/401/);
    expect((await counts(cfg.stream_id)).pending).toBeGreaterThanOrEqual(2);
    await t.req('POST', '/ssf/status', { stream_id: cfg.stream_id, status: 'enabled' });
    await until(() => drained(cfg.stream_id));
    expect((await counts(cfg.stream_id)).delivered).toBeGreaterThanOrEqual(2);
  });

  it('SETs accepted before a stop are recorded delivered (marked together) and never sent again', async () => {
    const { rec, cfg } = await pushStream();
    await t.req('POST', '/ssf/status', { stream_id: cfg.stream_id, status: 'paused' });
    await mkUsers('push-marks', 5);
    const answered: { body: string; status: number }[] = [];
    rec.respond = (n, r) => {
      const status = n === 3 ? 401 : 202;
      answered.push({ body: r.body, status });
      return { status };
    };
    await t.req('POST', '/ssf/status', { stream_id: cfg.stream_id, status: 'enabled' });
    await until(async () => (await t.req('GET', `/ssf/status?stream_id=${cfg.stream_id}`)).json().status === 'paused');
    // The three 202s of the batch are stored as delivered before the 401 pauses the stream.
    expect((await counts(cfg.stream_id)).delivered).toBe(3);
    await t.req('POST', '/ssf/status', { stream_id: cfg.stream_id, status: 'enabled' });
    await until(() => drained(cfg.stream_id));
    const accepted = answered.filter((a) => a.status === 202).map((a) => a.body);
    expect(new Set(accepted).size).toBe(accepted.length); // no SET pushed again after its 202
    expect(answered.find((a) => a.status === 401)!.body).toBe(answered[4]!.body); // the refused one came back first
    expect((await counts(cfg.stream_id)).delivered).toBe(accepted.length);
  });

  it('a receiver that answers 200 instead of 202 is retried a few times, then the stream is disabled', async () => {
    const { rec, cfg } = await pushStream();
    rec.respond = () => ({ status: 200 });
    await mkUsers('push-200', 1);
    await until(async () => (await t.req('GET', `/ssf/status?stream_id=${cfg.stream_id}`)).json().status === 'disabled');
    expect(rec.received.length).toBe(3);
    expect((await t.req('GET', `/ssf/status?stream_id=${cfg.stream_id}`)).json().reason).toMatch(/202/);
  });

  it('429 honours Retry-After', async () => {
    const { rec, cfg } = await pushStream();
    rec.respond = (n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 202 });
    await mkUsers('push-429', 1);
    await until(async () => (await counts(cfg.stream_id)).delivered === 1);
    expect(rec.received[1]!.at - rec.received[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('a push target on a private or metadata address is refused at registration (SSRF)', async () => {
    for (const url of ['https://10.0.0.1/events', 'https://169.254.169.254/latest', 'https://[fd00::1]/x', 'http://192.168.1.5/e']) {
      const res = await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: url } });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().detail).toMatch(/private|https/);
    }
  });
});
