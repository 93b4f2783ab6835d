import type { LookupAddress } from 'node:dns';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePushClient } from '../../src/delivery/push.js';
import { verifySet } from '../../src/events/verify.js';
import { createStream } from '../../src/feeds/streams.js';
import { makePrune } from '../../src/worker/tasks/prune.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';
import { jtiOf } from '../helpers/sets.js';
import { metricSample, scrapeMetrics } from '../helpers/metrics.js';

/**
 * RFC 8935 push delivery beyond push.test.ts, operator.test.ts, metrics.test.ts and the
 * reliability/security suites: the request, the attempt deadline, each outcome (and how receivers
 * in the field answer), redrive and replay, safe targets, retries bounded by the retention. Real
 * loopback receivers, a real graphile-worker, real Postgres.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';
const STREAM_UPDATED = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated';
const JSON_CT = { 'content-type': 'application/json' };
const DAY = 86_400_000;

let t: TestApp;
const receivers: Receiver[] = [];
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  t = await startTestApp(
    {
      SCIMCAST_PUSH_BACKOFF_BASE_MS: '20',
      SCIMCAST_PUSH_BACKOFF_CAP_MS: '100',
      SCIMCAST_PUSH_TIMEOUT_MS: '2000',
      SCIMCAST_PUSH_MISBEHAVING_LIMIT: '3',
      SCIMCAST_PUSH_ALLOW: 'plain.example.test,10.20.30.40',
    },
    { worker: true },
  );
});
afterAll(async () => {
  await t?.close();
  for (const r of receivers) await r.close();
  for (const c of closers) await c();
});

async function pushStream(rec?: Receiver, extra: Record<string, unknown> = {}) {
  const r = rec ?? (await startReceiver());
  if (!rec) receivers.push(r);
  const res = await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: r.url }, events_requested: [`${EV}prov:create:notice`], ...extra }, { headers: JSON_CT });
  expect(res.statusCode, res.body).toBe(201);
  return { rec: r, id: (res.json() as { stream_id: string }).stream_id };
}
let n = 0;
const mkUsers = async (k: number) => {
  for (let i = 0; i < k; i++) expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `pg-${n++}` })).statusCode).toBe(201);
};
const counts = (id: string) => t.deps.storage.events.countsByState(id);
/** Nothing left to send, counted after the fan-out has signed every committed change (a status
 *  change's stream-updated SET is signed just after it commits, so the backlog can look empty first). */
const drained = async (id: string) => (await t.settle(), (await counts(id)).pending === 0);
const status = async (id: string) => (await t.req('GET', `/ssf/status?stream_id=${id}`)).json() as { status: string; reason?: string };
const claimsOf = async (jws: string) => verifySet(jws, { jwks: (await t.req('GET', '/jwks.json', undefined, { auth: null })).json() });
const eventOf = async (jws: string) => Object.entries((await claimsOf(jws)).events)[0]!;
const setErr = (err: string) => ({ status: 400, headers: JSON_CT, body: JSON.stringify({ err, description: `because ${err}` }) });


describe('the request (RFC 8935 §2.1)', () => {
  it('the body is the stored compact SET, the headers are exactly Content-Type application/secevent+jwt (no parameters) and Accept application/json, no Authorization without authorization_header; one keep-alive connection carries them all', async () => {
    const ports: number[] = [];
    const bodies: { headers: Record<string, unknown>; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        ports.push(req.socket.remotePort!);
        bodies.push({ headers: req.headers, body });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
    const { id } = await pushStream({ url } as Receiver);
    await mkUsers(4);
    await until(async () => (await counts(id)).delivered === 4);
    for (const b of bodies) {
      expect(b.headers['content-type']).toBe('application/secevent+jwt');
      expect(b.headers.accept).toBe('application/json');
      expect(b.headers).not.toHaveProperty('authorization');
      expect(b.headers).not.toHaveProperty('accept-language');
      const stored = await t.deps.storage.events.byJti(jtiOf(b.body));
      expect(b.body).toBe(stored!.jws);
    }
    expect(new Set(ports).size).toBe(1); // keep-alive pool per receiver
  });
});

describe('attempt deadline', () => {
  it('timeouts bound the whole attempt: a receiver trickling its answer a byte at a time is given up on (a transient failure, retried later)', async () => {
    const timers: NodeJS.Timeout[] = [];
    const server = createServer((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      timers.push(setInterval(() => res.write(' '), 50));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(async () => {
      for (const x of timers) clearInterval(x);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const client = makePushClient({ timeoutMs: 300, allow: [], loopback: true });
    const started = Date.now();
    const out = await client.push({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/e` }, 'a.b.c', () => new Date());
    const took = Date.now() - started;
    await client.close().catch(() => {});
    expect(out).toMatchObject({ kind: 'retry', reason: 'network error: connection failed or timed out', cause: 'ERR_PUSH_DEADLINE' });
    expect(took).toBeLessThan(5_000); // 2 x 300 ms; unbounded before (each byte restarted the body timeout)
  });
});

describe('outcomes (RFC 8935 §2.2–§2.4; stream-updated, SSF §8.1.5)', () => {
  it('403 pauses the stream with a reason, announced by a stream-updated SET; the SETs are kept and resuming sends them first, in order', async () => {
    const { rec, id } = await pushStream();
    rec.respond = (k) => (k === 0 ? { status: 403 } : { status: 202 });
    await mkUsers(1);
    await until(async () => (await status(id)).status === 'paused');
    expect((await status(id)).reason).toMatch(/403/);
    await t.settle(); // the stream-updated SET is signed just after the pause commits
    const pending = await t.deps.storage.events.pending(id, 10);
    expect(pending.map((e) => e.eventUri)).toEqual([`${EV}prov:create:notice`, STREAM_UPDATED]);
    const [, announced] = await eventOf(pending[1]!.jws);
    expect(announced).toEqual({ status: 'paused', reason: expect.stringMatching(/403/) });
    await mkUsers(1); // a paused stream keeps new SETs too
    await t.settle();
    expect((await counts(id)).pending).toBe(3);
    expect(rec.received).toHaveLength(1);
    await t.req('POST', '/ssf/status', { stream_id: id, status: 'enabled' }, { headers: JSON_CT });
    await until(() => drained(id));
    const sent = rec.received.map((r) => r.body);
    expect(sent[1]).toBe(sent[0]); // the refused SET again, same bytes
    const jtis = sent.slice(1).map(jtiOf);
    expect([...jtis].sort()).toEqual(jtis); // commit order
    const uris = await Promise.all(sent.slice(1).map(async (b) => (await eventOf(b))[0]));
    expect(uris).toEqual([`${EV}prov:create:notice`, STREAM_UPDATED, `${EV}prov:create:notice`, STREAM_UPDATED]);
  });

  it('400 invalid_key and authentication_failed pause the stream instead of dead-lettering the SET', async () => {
    for (const err of ['invalid_key', 'authentication_failed']) {
      const { rec, id } = await pushStream();
      rec.respond = () => setErr(err);
      await mkUsers(1);
      await until(async () => (await status(id)).status === 'paused');
      expect((await status(id)).reason).toContain(err);
      expect(await counts(id)).toMatchObject({ dead: 0, pending: 2 }); // the SET and the stream-updated
      expect(rec.received).toHaveLength(1);
    }
  });

  it('503 honours Retry-After as an HTTP-date and as seconds; the SET then arrives once, in order', async () => {
    for (const kind of ['date', 'seconds'] as const) {
      const { rec, id } = await pushStream();
      rec.respond = (k) => (k === 0 ? { status: 503, headers: { 'retry-after': kind === 'seconds' ? '1' : new Date(Date.now() + 2000).toUTCString() } } : { status: 202 });
      await mkUsers(2);
      await until(async () => (await counts(id)).delivered === 2);
      const gap = rec.received[1]!.at - rec.received[0]!.at;
      // An HTTP-date has one-second resolution: two seconds ahead is at least one second of wait.
      expect(gap, kind).toBeGreaterThanOrEqual(900);
      expect(rec.received.map((r) => jtiOf(r.body))).toEqual([jtiOf(rec.received[0]!.body), jtiOf(rec.received[0]!.body), jtiOf(rec.received[2]!.body)]);
      expect(jtiOf(rec.received[0]!.body) < jtiOf(rec.received[2]!.body)).toBe(true);
    }
  });

  it('204 and 302 are misbehaving: retried SCIMCAST_PUSH_MISBEHAVING_LIMIT times, then the stream is disabled with a reason and a stream-updated SET; the redirect is not followed; counted', async () => {
    const elsewhere = await startReceiver();
    receivers.push(elsewhere);
    for (const answer of [{ status: 204 }, { status: 302, headers: { location: elsewhere.url } }]) {
      const { rec, id } = await pushStream();
      rec.respond = () => answer;
      await mkUsers(1);
      await until(async () => (await status(id)).status === 'disabled');
      expect((await status(id)).reason).toMatch(new RegExp(`${answer.status}.*202`));
      expect(rec.received).toHaveLength(3);
      const pending = await t.deps.storage.events.pending(id, 10);
      expect(pending.map((e) => e.eventUri)).toEqual([`${EV}prov:create:notice`, STREAM_UPDATED]); // kept, not lost
      expect((await eventOf(pending[1]!.jws))[1]).toMatchObject({ status: 'disabled' });
      expect(metricSample(await scrapeMetrics(t), 'scimcast_push_attempts_total', `stream="${id}",outcome="misbehaving"`)).toBe(3);
    }
    expect(elsewhere.received).toHaveLength(0);
  });

  it('metrics count retried and pausing attempts by stream and outcome', async () => {
    const { rec, id } = await pushStream();
    rec.respond = (k) => (k < 2 ? { status: 500 } : k === 2 ? { status: 401 } : { status: 202 });
    await mkUsers(1);
    await until(async () => (await status(id)).status === 'paused');
    // The pause's stream-updated SET is signed by the fan-out after the pause commits: the backlog
    // is the create notice and that SET once the fan-out has run.
    await until(async () => metricSample(await scrapeMetrics(t), 'scimcast_stream_backlog', `stream="${id}"`) === 2);
    const text = await scrapeMetrics(t);
    expect(metricSample(text, 'scimcast_push_attempts_total', `stream="${id}",outcome="retry"`)).toBe(2);
    expect(metricSample(text, 'scimcast_push_attempts_total', `stream="${id}",outcome="pause"`)).toBe(1);
    expect(metricSample(text, 'scimcast_stream_backlog', `stream="${id}"`)).toBe(2);
    expect(metricSample(text, 'scimcast_stream_oldest_pending_seconds', `stream="${id}"`)).toBeGreaterThanOrEqual(0);
    const stats = (await t.req('GET', `/ssf/streams/${id}/stats`)).json();
    expect(stats.last_error).toMatchObject({ state: 'pending', description: expect.stringMatching(/401/) });
  });
});

describe('operator: redrive a range, replay from a time', () => {
  it('redrive from_jti..to_jti requeues exactly that range; replay since a time re-sends only SETs created since, with the same bytes', async () => {
    const { rec, id } = await pushStream();
    rec.respond = (k) => (k < 4 ? setErr('invalid_request') : { status: 202 });
    await mkUsers(4);
    await until(async () => (await counts(id)).dead === 4);
    const dead = (await t.req('GET', `/ssf/streams/${id}/dead`)).json().sets as { jti: string }[];
    expect(dead).toHaveLength(4);
    const r = await t.req('POST', `/ssf/streams/${id}/redrive`, { from_jti: dead[1]!.jti, to_jti: dead[2]!.jti }, { headers: JSON_CT });
    expect(r.json()).toEqual({ stream_id: id, redriven: 2 });
    await until(async () => (await counts(id)).delivered === 2);
    expect(rec.received.slice(4).map((x) => jtiOf(x.body))).toEqual([dead[1]!.jti, dead[2]!.jti]);
    expect((await t.req('GET', `/ssf/streams/${id}/dead`)).json().sets.map((s: { jti: string }) => s.jti)).toEqual([dead[0]!.jti, dead[3]!.jti]);

    await new Promise((res) => setTimeout(res, 20));
    const since = new Date().toISOString();
    await new Promise((res) => setTimeout(res, 20));
    await mkUsers(2);
    await until(async () => (await counts(id)).delivered === 4);
    const fresh = rec.received.slice(6).map((x) => x.body);
    const replay = await t.req('POST', `/ssf/streams/${id}/replay`, { since }, { headers: JSON_CT });
    expect(replay.json()).toEqual({ stream_id: id, replayed: 2 });
    await until(() => rec.received.length === 10);
    expect(rec.received.slice(8).map((x) => x.body)).toEqual(fresh);
  });
});

describe('safe targets', () => {
  const resolver =
    (address: string) =>
    (_h: string, _o: { all: true }, cb: (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) =>
      cb(null, [{ address, family: address.includes(':') ? 6 : 4 }]);

  it('SCIMCAST_PUSH_ALLOW admits a named plain-http host and a private address literal', async () => {
    for (const url of ['http://plain.example.test/events', 'https://10.20.30.40/events']) {
      const res = await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: url }, events_requested: [] }, { headers: JSON_CT });
      expect(res.statusCode, url).toBe(201);
      expect((await t.req('DELETE', `/ssf/streams?stream_id=${res.json().stream_id}`)).statusCode).toBe(204);
    }
    const refused = await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'https://10.20.30.41/events' } }, { headers: JSON_CT });
    expect(refused.statusCode).toBe(400);
  });

  it('a name that resolves to a private, link-local or metadata address is refused at registration and on PATCH, unless allow-listed', async () => {
    const owner = (await t.deps.authenticate(t.token))!.id;
    for (const address of ['10.1.2.3', '169.254.169.254', 'fd00:ec2::254', '192.168.0.10']) {
      const ctx = { ...t.deps.streams, resolve: resolver(address) };
      const refused = await createStream(ctx, owner, { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'https://receiver.example.net/e' } }).catch((e: unknown) => e);
      expect(refused, address).toMatchObject({ status: 400, scimType: 'invalidValue', detail: expect.stringContaining('resolves to a private, link-local or loopback address') });
      // What this server's resolver answers is not the stream owner's to learn.
      expect((refused as { detail: string }).detail).not.toContain(address);
    }
    const ok = await createStream({ ...t.deps.streams, resolve: resolver('93.184.215.14') }, owner, { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'https://receiver.example.net/e' } });
    expect(ok.delivery).toEqual({ method: 'urn:ietf:rfc:8935', endpoint_url: 'https://receiver.example.net/e' });
    const allowed = await createStream({ ...t.deps.streams, pushAllow: ['receiver.example.net'], resolve: resolver('10.1.2.3') }, owner, { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'https://receiver.example.net/e' } });
    expect(allowed.stream_id).toMatch(/^f-/);
    const { updateStream } = await import('../../src/feeds/streams.js');
    await expect(updateStream({ ...t.deps.streams, resolve: resolver('10.1.2.3') }, owner, { stream_id: ok.stream_id, delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'https://other.example.net/e' } }, 'patch')).rejects.toMatchObject({ status: 400 });
    expect((await t.req('GET', `/ssf/streams/${ok.stream_id}`)).json().delivery.endpoint_url).toBe('https://receiver.example.net/e');
    for (const id of [ok.stream_id, allowed.stream_id]) await t.req('DELETE', `/ssf/streams?stream_id=${id}`);
  });

  it('DNS rebinding: the real push client checks the address again at connect time, so a name that now resolves to a private address gets no connection', async () => {
    const rec = await startReceiver();
    receivers.push(rec);
    const url = rec.url.replace('127.0.0.1', 'rebind.test');
    const jws = 'eyJhbGciOiJFUzI1NiJ9.e30.sig';
    const good = makePushClient({ timeoutMs: 2000, allow: [], loopback: true, resolve: resolver('127.0.0.1') });
    expect(await good.push({ url }, jws, () => new Date())).toEqual({ kind: 'delivered' });
    await good.close();
    expect(rec.received).toHaveLength(1);
    const rebound = makePushClient({ timeoutMs: 2000, allow: [], loopback: true, resolve: resolver('10.0.0.7') });
    expect(await rebound.push({ url }, jws, () => new Date())).toMatchObject({ kind: 'retry', cause: 'ERR_PUSH_FORBIDDEN_ADDRESS' });
    await rebound.close();
    // 0.0.0.0 is forbidden ("this network"), yet on Linux a connection to it reaches this host:
    // refused without the allow-list, delivered to the local receiver with it. Nothing leaves the machine.
    const unspecified = makePushClient({ timeoutMs: 2000, allow: [], loopback: true, resolve: resolver('0.0.0.0') });
    expect(await unspecified.push({ url }, jws, () => new Date())).toMatchObject({ kind: 'retry', cause: 'ERR_PUSH_FORBIDDEN_ADDRESS' });
    await unspecified.close();
    expect(rec.received).toHaveLength(1);
    const allowListed = makePushClient({ timeoutMs: 2000, allow: ['rebind.test'], loopback: true, resolve: resolver('0.0.0.0') });
    expect(await allowListed.push({ url }, jws, () => new Date())).toEqual({ kind: 'delivered' });
    await allowListed.close();
    expect(rec.received).toHaveLength(2);
  });
});

describe('retries are bounded by the retention', () => {
  it('a receiver that keeps failing gets its SETs retried until the retention ends; then they are dead "expired" and not sent again', async () => {
    const { rec, id } = await pushStream();
    rec.respond = () => ({ status: 500 });
    await mkUsers(1);
    await until(() => rec.received.length >= 3);
    expect((await counts(id)).pending).toBe(1);
    const t0 = Date.now();
    await makePrune({ ...t.deps, clock: { now: () => new Date(t0 + t.config.events.retentionDays * DAY + 60_000) } })(undefined as never, undefined as never);
    expect(await counts(id)).toMatchObject({ pending: 0, dead: 1 });
    const dead = (await t.req('GET', `/ssf/streams/${id}/dead`)).json().sets;
    expect(dead).toEqual([expect.objectContaining({ err: 'expired', attempts: expect.any(Number) })]);
    expect(dead[0].attempts).toBeGreaterThanOrEqual(3);
    // Any retry still scheduled finds nothing to send.
    const seen = rec.received.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(rec.received.length).toBeLessThanOrEqual(seen + 1);
  });
});
