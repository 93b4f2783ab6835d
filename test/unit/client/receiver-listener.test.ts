import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SetReceiver, type ReceivedSet } from '../../../src/client/set-receiver.js';
import type { PushListener } from '../../../src/client/push-listener.js';
import { AUD, claims, ISS, makeKey, sign, startJwksServer, tamper, type JwksServer, type TestKey } from './receiver-fixtures.js';

/**
 * The RFC 8935 push endpoint of `scimcast receive --listen`: 202 with an empty body for a
 * verified SET and for a repeat (RFC 8935 §2, §2.2); 400 {err, description} with
 * Content-Language for one it rejects (RFC 8935 §2.3, §2.4); 401 without the agreed bearer token.
 */
let key: TestKey;
let jwks: JwksServer;
let listener: PushListener;
const written: ReceivedSet[] = [];

beforeAll(async () => {
  key = await makeKey('k1');
  jwks = await startJwksServer([key]);
  const r = new SetReceiver({ jwksUrl: jwks.url, issuer: ISS, audience: AUD, onSet: (s) => void written.push(s), jwksRefreshMinMs: 10 });
  listener = await r.listen({ port: 0, auth: 'push-secret', path: '/events' });
});
afterAll(async () => {
  await listener?.close();
  await jwks?.close();
});

const push = (body: string, headers: Record<string, string> = {}) =>
  fetch(listener.url, { method: 'POST', headers: { 'content-type': 'application/secevent+jwt', accept: 'application/json', authorization: 'Bearer push-secret', ...headers }, body });

describe('push listener', () => {
  it('answers 202 with an empty body, writes the SET once, and answers a repeat with 202 too', async () => {
    const jws = await sign(key, claims());
    const res = await push(jws);
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    expect((await push(jws)).status).toBe(202);
    expect(written.filter((s) => s.set === jws)).toHaveLength(1);
    expect(written.at(-1)!.via).toBe('push');
  });

  it('tolerates Content-Type parameters (some transmitters add a charset)', async () => {
    expect((await push(await sign(key, claims()), { 'content-type': 'application/secevent+jwt; charset=utf-8' })).status).toBe(202);
  });

  it('a tampered SET is 400 invalid_request with Content-Language: en', async () => {
    const res = await push(tamper(await sign(key, claims())));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('content-language')).toBe('en');
    expect((await res.json()) as { err: string }).toEqual({ err: 'invalid_request', description: expect.any(String) });
  });

  it('wrong audience, wrong issuer and unknown key get their RFC 8935 §2.4 codes', async () => {
    const stranger = await makeKey('nobody');
    const cases: [string, string][] = [
      [await sign(key, claims({ aud: 'https://other.example/feed' })), 'invalid_audience'],
      [await sign(key, claims({ iss: 'https://other.example' })), 'invalid_issuer'],
      [await sign(stranger, claims()), 'invalid_key'],
    ];
    for (const [jws, err] of cases) {
      const res = await push(jws);
      expect(res.status, err).toBe(400);
      expect(((await res.json()) as { err: string }).err).toBe(err);
    }
  });

  it('needs the bearer token it was given; other methods, paths and media types are refused', async () => {
    const jws = await sign(key, claims());
    const noAuth = await fetch(listener.url, { method: 'POST', headers: { 'content-type': 'application/secevent+jwt' }, body: jws });
    expect(noAuth.status).toBe(401);
    expect(noAuth.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await noAuth.json()) as { err: string }).err).toBe('authentication_failed');
    expect((await push(jws, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await fetch(listener.url, { headers: { authorization: 'Bearer push-secret' } })).status).toBe(405);
    expect((await fetch(listener.url.replace('/events', '/other'), { method: 'POST', body: jws })).status).toBe(404);
    const json = await push(JSON.stringify({ set: jws }), { 'content-type': 'application/json' });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { err: string }).err).toBe('invalid_request');
    expect(written.some((s) => s.set === jws)).toBe(false);
  });

  it('answers 503 with Retry-After when a new kid cannot be checked because the JWKS is down', async () => {
    jwks.failWith = 500;
    try {
      const res = await push(await sign(await makeKey('rotated'), claims()));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
    } finally {
      jwks.failWith = undefined;
    }
  });

  it('with max, stops after that many accepted SETs', async () => {
    const r = new SetReceiver({ jwksUrl: jwks.url, issuer: ISS, audience: AUD });
    const l = await r.listen({ port: 0, max: 2 });
    const send = async () => (await fetch(l.url, { method: 'POST', headers: { 'content-type': 'application/secevent+jwt' }, body: await sign(key, claims()) })).status;
    expect(await send()).toBe(202);
    expect(await send()).toBe(202);
    await l.done;
    expect(r.stats.accepted).toBe(2);
    await expect(send()).rejects.toThrow();
  });
});
