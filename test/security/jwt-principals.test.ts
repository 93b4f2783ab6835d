import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ERROR_URN, USER } from './support.js';

/**
 * JWT access tokens (RFC 9068) from a loopback IdP. The owner of streams and async requests is
 * the (issuer, client, subject) of the token, so two users signed in through one OAuth client
 * do not see each other's. Only a JWT that says it is an access token (`typ: at+jwt`) is one,
 * unless SCIMCAST_JWT_REQUIRE_AT_TYP is off; then no `typ` or `JWT` also passes, other types do
 * not. Claims of the wrong JSON type are a 401, never a 500.
 */
const ISSUER = 'https://idp.example.test';

let jwks: Server;
let strict: TestApp;
let lenient: TestApp;
type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let key: Key;

beforeAll(async () => {
  const kp = await generateKeyPair('ES256', { extractable: true });
  key = kp.privateKey;
  const jwk = { ...(await exportJWK(kp.publicKey)), kid: 'idp-1', alg: 'ES256' };
  jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const env = { SCIMCAST_JWT_ISSUER: ISSUER, SCIMCAST_JWT_AUDIENCE: 'scimcast', SCIMCAST_JWT_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json` };
  [strict, lenient] = await Promise.all([startTestApp(env), startTestApp({ ...env, SCIMCAST_JWT_REQUIRE_AT_TYP: 'false' })]);
});
afterAll(async () => {
  await strict?.close();
  await lenient?.close();
  jwks?.close();
});

const ALL = 'scim:read scim:write feeds:admin';

function token(claims: Record<string, unknown>, header: Record<string, unknown> = { typ: 'at+jwt' }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: 'scimcast', iat: now, exp: now + 600, scope: ALL, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'idp-1', ...header })
    .sign(key);
}

/** Drop a claim from the defaults (`undefined` values are left out of the JSON). */
const without = (name: string): Record<string, unknown> => ({ [name]: undefined });

function expectInvalidToken(res: Awaited<ReturnType<TestApp['req']>>, context: string) {
  expect(res.statusCode, `${context}: ${res.body.slice(0, 200)}`).toBe(401);
  expect(res.headers['www-authenticate'], context).toMatch(/^Bearer realm="scimcast", error="invalid_token"/);
  expect(res.json(), context).toMatchObject({ schemas: [ERROR_URN], status: '401' });
}

describe('JWT principals: one OAuth client, several users', () => {
  it('a stream created by one user of a client is 404 to another user of the same client', async () => {
    const alice = await token({ client_id: 'hr-portal', sub: 'alice' });
    const bob = await token({ client_id: 'hr-portal', sub: 'bob' });
    const created = await strict.req('POST', '/ssf/streams', { events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] }, { auth: alice });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().stream_id as string;

    expect((await strict.req('GET', `/ssf/streams?stream_id=${id}`, undefined, { auth: alice })).statusCode).toBe(200);
    const seenByBob = await strict.req('GET', `/ssf/streams?stream_id=${id}`, undefined, { auth: bob });
    expect(seenByBob.statusCode, seenByBob.body).toBe(404);
    expect((await strict.req('GET', '/ssf/streams', undefined, { auth: bob })).json()).toEqual([]);
    const bobPolls = await strict.req('POST', `/ssf/streams/${id}/poll`, { returnImmediately: true }, { auth: bob, headers: { 'content-type': 'application/json' } });
    expect(bobPolls.statusCode).toBe(404);
    expect((await strict.req('DELETE', `/ssf/streams?stream_id=${id}`, undefined, { auth: bob })).statusCode).toBe(404);
    // Alice's stream is still there for her.
    expect((await strict.req('GET', '/ssf/streams', undefined, { auth: alice })).json().map((s: { stream_id: string }) => s.stream_id)).toEqual([id]);
  });

  it('an async request made by one user of a client is 404 to another user of the same client', async () => {
    const alice = await token({ client_id: 'hr-portal', sub: 'alice-async' });
    const bob = await token({ client_id: 'hr-portal', sub: 'bob-async' });
    const res = await strict.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'jwt-async-alice' }, { auth: alice, headers: { prefer: 'respond-async' } });
    expect(res.statusCode, res.body).toBe(202);
    const path = new URL(res.headers.location as string).pathname;

    expect((await strict.req('GET', path, undefined, { auth: alice })).statusCode).toBe(200);
    const seenByBob = await strict.req('GET', path, undefined, { auth: bob });
    expect(seenByBob.statusCode, seenByBob.body).toBe(404);
    expect((await strict.req('GET', '/scim/v2/AsyncRequests', undefined, { auth: bob })).json().totalResults).toBe(0);
    expect((await strict.req('GET', '/scim/v2/AsyncRequests', undefined, { auth: alice })).json().totalResults).toBe(1);
  });

  it('the same user through the same client keeps their streams across tokens', async () => {
    const first = await token({ client_id: 'hr-portal', sub: 'carol' });
    const created = await strict.req('POST', '/ssf/streams', { events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] }, { auth: first });
    expect(created.statusCode).toBe(201);
    const later = await token({ client_id: 'hr-portal', sub: 'carol', jti: 'another-token' });
    expect((await strict.req('GET', `/ssf/streams?stream_id=${created.json().stream_id}`, undefined, { auth: later })).statusCode).toBe(200);
  });
});

describe('only access tokens are access tokens (RFC 9068 §2.1, §4)', () => {
  const ok = (t: TestApp, tok: string) => t.req('GET', '/scim/v2/Users', undefined, { auth: tok });

  it('by default, a token without typ at+jwt is refused; at+jwt and application/at+jwt in any case are taken', async () => {
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/At+Jwt']) {
      const res = await ok(strict, await token({ sub: 'u1' }, { typ }));
      expect(res.statusCode, `typ ${typ}: ${res.body}`).toBe(200);
    }
    expectInvalidToken(await ok(strict, await token({ sub: 'u1' }, {})), 'no typ');
    for (const typ of ['JWT', 'jwt', 'secevent+jwt', 'application/secevent+jwt', 'logout+jwt', 'dpop+jwt', '']) {
      expectInvalidToken(await ok(strict, await token({ sub: 'u1' }, { typ })), `typ ${typ}`);
    }
  });

  it('with SCIMCAST_JWT_REQUIRE_AT_TYP=false, no typ and JWT are taken too; another kind of JWT is still refused', async () => {
    for (const header of [{}, { typ: 'JWT' }, { typ: 'application/jwt' }, { typ: 'at+jwt' }]) {
      const res = await ok(lenient, await token({ sub: 'u1' }, header));
      expect(res.statusCode, `header ${JSON.stringify(header)}: ${res.body}`).toBe(200);
    }
    for (const typ of ['secevent+jwt', 'application/secevent+jwt', 'logout+jwt', 'dpop+jwt', 'id_token+jwt', '']) {
      expectInvalidToken(await ok(lenient, await token({ sub: 'u1' }, { typ })), `typ ${typ}`);
    }
  });
});

describe('claims of the wrong shape are a 401, never a 500', () => {
  it('a missing or non-string sub, a non-string client_id, and a scope that is neither a string nor an array of strings', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['no sub', without('sub')],
      ['no sub, with a client_id', { client_id: 'hr-portal', ...without('sub') }],
      ['empty sub', { sub: '' }],
      ['numeric sub', { sub: 42 }],
      ['object sub', { sub: { id: 'alice' } }],
      ['array sub', { sub: ['alice'] }],
      ['null sub', { sub: null }],
      ['numeric client_id', { sub: 'alice', client_id: 7 }],
      ['object client_id', { sub: 'alice', client_id: { id: 'hr-portal' } }],
      ['empty client_id', { sub: 'alice', client_id: '' }],
      ['numeric scope', { sub: 'alice', scope: 1 }],
      ['object scope', { sub: 'alice', scope: { 'scim:read': true } }],
      ['boolean scope', { sub: 'alice', scope: true }],
      ['null scope', { sub: 'alice', scope: null }],
      ['array scope with a number', { sub: 'alice', scope: ['scim:read', 1] }],
      ['array scope with an object', { sub: 'alice', scope: ['scim:read', { toString: 1 }] }],
    ];
    for (const app of [strict, lenient]) {
      for (const [name, claims] of cases) {
        expectInvalidToken(await app.req('GET', '/scim/v2/Users', undefined, { auth: await token(claims) }), name);
        expectInvalidToken(await app.req('GET', '/scim/v2/AsyncRequests', undefined, { auth: await token(claims) }), `${name} (any-token route)`);
      }
    }
  });

  it('a scope array of strings and an absent scope are understood (the control)', async () => {
    expect((await strict.req('GET', '/scim/v2/Users', undefined, { auth: await token({ sub: 'alice', scope: ['scim:read'] }) })).statusCode).toBe(200);
    const noScope = await token({ sub: 'alice', ...without('scope') });
    expect((await strict.req('GET', '/scim/v2/Users', undefined, { auth: noScope })).statusCode).toBe(403);
    expect((await strict.req('GET', '/scim/v2/AsyncRequests', undefined, { auth: noScope })).statusCode).toBe(200);
  });
});
