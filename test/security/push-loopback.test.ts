import type { LookupAddress } from 'node:dns';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePushClient } from '../../src/delivery/push.js';
import { createStream } from '../../src/feeds/streams.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { pushStreamTo } from '../helpers/push-stream.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';
import { snapshot, USER } from './support.js';

/**
 * Push to loopback reaches the server's own host. A stream owner on a server that listens beyond
 * loopback is a remote client: loopback targets are refused for them (at registration and at
 * every connection) unless allow-listed, and what they see of a failed connection does not tell
 * an open port from a closed one. A server on loopback (the default HOST, the local walkthroughs)
 * keeps pushing to local receivers. HOST is a config override here: nothing listens on 0.0.0.0.
 */
const PUSH = 'urn:ietf:rfc:8935';
const EV = 'urn:ietf:params:scim:event:';
const JSON_CT = { 'content-type': 'application/json' };
const FAST_RETRY = { SCIMCAST_PUSH_BACKOFF_BASE_MS: '20', SCIMCAST_PUSH_BACKOFF_CAP_MS: '100', SCIMCAST_PUSH_TIMEOUT_MS: '300' };

const receivers: Receiver[] = [];
const servers: Server[] = [];
const sockets: Socket[] = [];
const apps: TestApp[] = [];
afterAll(async () => {
  for (const t of apps) await t.close();
  for (const r of receivers) await r.close();
  for (const s of sockets) s.destroy();
  for (const s of servers) await new Promise((r) => s.close(r));
});

async function app(env: Record<string, string>, worker = false): Promise<TestApp> {
  const t = await startTestApp({ ...FAST_RETRY, ...env }, { worker });
  apps.push(t);
  return t;
}

async function receiver(): Promise<Receiver> {
  const rec = await startReceiver();
  receivers.push(rec);
  return rec;
}

/** A TCP server on loopback that does `onSocket` with each connection; counts them. */
async function tcp(onSocket: (s: Socket) => void): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    sockets.push(s);
    s.on('error', () => {});
    onSocket(s);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, connections: () => n };
}

const resolver =
  (address: string) =>
  (_h: string, _o: { all: true }, cb: (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) =>
    cb(null, [{ address, family: address.includes(':') ? 6 : 4 }]);

const stats = async (t: TestApp, id: string) =>
  (await t.req('GET', `/ssf/streams/${id}/stats`)).json() as { last_error: { err?: string; description: string } | null; counts: Record<string, number> };

let userN = 0;
const mkUser = async (t: TestApp) => expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `loopback-${userN++}` })).statusCode).toBe(201);

describe('a server listening beyond loopback (HOST=0.0.0.0)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await app({ HOST: '0.0.0.0' }, true);
  });

  it('refuses a stream to a loopback target with a clear 400, on POST and PATCH, and changes nothing', async () => {
    const rec = await receiver();
    const port = new URL(rec.url).port;
    const poll = (await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:create:notice`] }, { headers: JSON_CT })).json() as { stream_id: string };
    const before = await snapshot(t);
    for (const url of [
      rec.url,
      `https://127.0.0.1:${port}/events`,
      `http://localhost:${port}/events`,
      `http://[::1]:${port}/events`,
      `http://127.9.8.7:${port}/events`,
      `https://[::ffff:127.0.0.1]:${port}/events`,
      'https://receiver.localhost/events',
    ]) {
      const res = await t.req('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: url } }, { headers: JSON_CT });
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({ status: '400', scimType: 'invalidValue', detail: expect.stringMatching(/loopback.*SCIMCAST_PUSH_ALLOW/) });
      const patched = await t.req('PATCH', '/ssf/streams', { stream_id: poll.stream_id, delivery: { method: PUSH, endpoint_url: url } }, { headers: JSON_CT });
      expect(patched.statusCode, url).toBe(400);
    }
    expect(await snapshot(t)).toEqual(before);
    expect(rec.received).toHaveLength(0);
  });

  it('refuses at registration a name that resolves to loopback', async () => {
    const owner = (await t.deps.authenticate(t.token))!.id;
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.2']) {
      const refused = await createStream({ ...t.deps.streams, resolve: resolver(address) }, owner, { delivery: { method: PUSH, endpoint_url: 'https://receiver.example.net/e' } }).catch((e: unknown) => e);
      expect(refused, address).toMatchObject({ status: 400, scimType: 'invalidValue', detail: expect.stringContaining('loopback') });
    }
  });

  it('refuses at connect time a name that now resolves to loopback, and a loopback stream registered while the server listened on loopback', async () => {
    const rec = await receiver();
    const port = new URL(rec.url).port;
    // The push client as the server builds it here (loopback not allowed), with a name that
    // resolved to a public address at registration and to loopback now (DNS rebinding).
    const client = makePushClient({ timeoutMs: 2000, allow: t.config.events.pushAllow, loopback: t.config.events.pushLoopback, resolve: resolver('127.0.0.1') });
    expect(await client.push({ url: `http://rebind.test:${port}/events` }, 'a.b.c', () => new Date())).toEqual({
      kind: 'retry',
      reason: 'network error: the target resolves to an address push may not reach',
      cause: 'ERR_PUSH_FORBIDDEN_ADDRESS',
    });
    await client.close();
    expect(rec.received).toHaveLength(0);

    // A stream registered before a restart onto 0.0.0.0: the worker does not connect to it.
    const owner = (await t.deps.authenticate(t.token))!.id;
    const old = await createStream({ ...t.deps.streams, pushLoopback: true }, owner, { delivery: { method: PUSH, endpoint_url: rec.url }, events_requested: [`${EV}prov:create:notice`] });
    await mkUser(t);
    await until(async () => (await stats(t, old.stream_id)).last_error !== null);
    expect((await stats(t, old.stream_id)).last_error).toMatchObject({ description: 'network error: the target resolves to an address push may not reach' });
    expect(rec.received).toHaveLength(0);
    await t.req('DELETE', `/ssf/streams?stream_id=${old.stream_id}`);
  });
});

describe('the allow-list', () => {
  it('with HOST=0.0.0.0 and the loopback address in SCIMCAST_PUSH_ALLOW, a loopback stream is accepted and delivered', async () => {
    const t = await app({ HOST: '0.0.0.0', SCIMCAST_PUSH_ALLOW: '127.0.0.1' }, true);
    const { rec, id } = await pushStreamTo(t, receivers);
    await mkUser(t);
    await until(async () => (await stats(t, id)).counts.delivered === 1);
    expect(rec.received).toHaveLength(1);
  });

  it('a name allow-listed by name may resolve to loopback at connect time', async () => {
    const rec = await receiver();
    const client = makePushClient({ timeoutMs: 2000, allow: ['rebind.test'], loopback: false, resolve: resolver('127.0.0.1') });
    expect(await client.push({ url: rec.url.replace('127.0.0.1', 'rebind.test') }, 'a.b.c', () => new Date())).toEqual({ kind: 'delivered' });
    await client.close();
    expect(rec.received).toHaveLength(1);
  });
});

describe('a server on loopback (the default HOST=127.0.0.1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await app({}, true);
  });

  it('pushes to a loopback receiver as before', async () => {
    expect(t.config.events.pushLoopback).toBe(true);
    const { rec, id } = await pushStreamTo(t, receivers);
    await mkUser(t);
    await until(async () => (await stats(t, id)).counts.delivered === 1);
    expect(rec.received).toHaveLength(1);
  });

  it('tells the owner the same generic words for a refused connection, a timeout, a reset and an answer that is not HTTP', async () => {
    // A port nothing listens on: a server opened and closed again.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const hanging = await tcp(() => {}); // accepts, never answers: the push times out
    const reset = await tcp((s) => s.resetAndDestroy());
    const banner = await tcp((s) => s.end('SSH-2.0-OpenSSH_9.6\r\n')); // some other service
    const targets = { refused: closedPort, hanging: hanging.port, reset: reset.port, banner: banner.port };
    const ids: Record<string, string> = {};
    for (const [name, port] of Object.entries(targets)) {
      const res = await t.req('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: `http://127.0.0.1:${port}/events` }, events_requested: [`${EV}prov:create:notice`] }, { headers: JSON_CT });
      expect(res.statusCode, name).toBe(201);
      ids[name] = (res.json() as { stream_id: string }).stream_id;
    }
    await mkUser(t);
    const seen: Record<string, unknown> = {};
    await until(async () => {
      for (const [name, id] of Object.entries(ids)) seen[name] = (await stats(t, id)).last_error;
      return Object.values(seen).every((e) => e !== null);
    });
    for (const [name, lastError] of Object.entries(seen)) {
      expect(lastError, name).toMatchObject({ description: 'network error: connection failed or timed out' });
      const text = JSON.stringify(lastError);
      expect(text, name).not.toMatch(/ECONN|UND_ERR|HPE_|TIMEOUT|SSH|127\.0\.0\.1/i);
      expect(text, name).not.toContain(String(targets[name as keyof typeof targets]));
    }
    // The dead letters, the other place an owner reads errors, hold none of these (they are retried).
    for (const id of Object.values(ids)) expect((await t.req('GET', `/ssf/streams/${id}/dead`)).json().sets).toEqual([]);
    for (const id of Object.values(ids)) await t.req('DELETE', `/ssf/streams?stream_id=${id}`);
  });
});
