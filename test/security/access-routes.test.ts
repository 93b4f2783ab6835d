import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../src/auth/scopes.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { registeredRoutes } from './support.js';

/**
 * Access. Every route the app registers is enumerated from the router itself, so a
 * route added later without a line in ACCESS below fails this test. Each protected route must
 * refuse a missing, malformed, unknown or revoked token (401 with WWW-Authenticate) and a token
 * lacking its scope (403 insufficient_scope), and accept a token holding only that scope. JWT
 * access tokens with `alg: none`, HMAC, an unknown key, an embedded key, no `exp`, no `sub`, or a
 * `typ` other than `at+jwt` are refused on every protected route.
 */
type Access = 'public' | 'authenticated' | (typeof SCOPES)[number];

/** The one list of who may call what. `authenticated`: any valid token, results owner-scoped. */
const ACCESS: Record<string, Access> = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /.well-known/ssf-configuration': 'public',
  'GET /jwks.json': 'public',
  'GET /openapi.json': 'public',
  'GET /scim/v2/serviceproviderconfig': 'public',
  'GET /scim/v2/schemas': 'public',
  'GET /scim/v2/schemas/:id': 'public',
  'GET /scim/v2/resourcetypes': 'public',
  'GET /scim/v2/resourcetypes/:name': 'public',
  'GET /metrics': 'metrics:read',
  'GET /scim/v2': 'scim:read',
  'GET /scim/v2/users': 'scim:read',
  'GET /scim/v2/users/:id': 'scim:read',
  'GET /scim/v2/groups': 'scim:read',
  'GET /scim/v2/groups/:id': 'scim:read',
  'POST /scim/v2/.search': 'scim:read',
  'POST /scim/v2/users/.search': 'scim:read',
  'POST /scim/v2/groups/.search': 'scim:read',
  'POST /scim/v2/users': 'scim:write',
  'PUT /scim/v2/users/:id': 'scim:write',
  'PATCH /scim/v2/users/:id': 'scim:write',
  'DELETE /scim/v2/users/:id': 'scim:write',
  'POST /scim/v2/groups': 'scim:write',
  'PUT /scim/v2/groups/:id': 'scim:write',
  'PATCH /scim/v2/groups/:id': 'scim:write',
  'DELETE /scim/v2/groups/:id': 'scim:write',
  'POST /scim/v2/bulk': 'scim:bulk',
  'GET /scim/v2/asyncrequests': 'authenticated',
  'GET /scim/v2/asyncrequests/:id': 'authenticated',
  'POST /ssf/streams': 'feeds:admin',
  'GET /ssf/streams': 'feeds:admin',
  'PATCH /ssf/streams': 'feeds:admin',
  'PUT /ssf/streams': 'feeds:admin',
  'DELETE /ssf/streams': 'feeds:admin',
  'GET /ssf/streams/:id': 'feeds:admin',
  'GET /ssf/streams/:id/stats': 'feeds:admin',
  'GET /ssf/streams/:id/dead': 'feeds:admin',
  'POST /ssf/streams/:id/redrive': 'feeds:admin',
  'POST /ssf/streams/:id/replay': 'feeds:admin',
  'POST /ssf/streams/:id/poll': 'authenticated',
  'GET /ssf/status': 'feeds:admin',
  'POST /ssf/status': 'feeds:admin',
  'POST /ssf/subjects/add': 'feeds:admin',
  'POST /ssf/subjects/remove': 'feeds:admin',
  'POST /ssf/verify': 'feeds:admin',
  'GET /admin/keys': 'admin',
  'GET /console': 'public',
  'GET /console/:file': 'public',
  'GET /admin/health': 'metrics:read',
};

/** A real id where the route is public (discovery), an unknown one elsewhere (access is checked first). */
const fill = (path: string) =>
  path
    .replace('/schemas/:id', '/schemas/urn:ietf:params:scim:schemas:core:2.0:User')
    .replace(':id', '00000000-0000-4000-8000-000000000000')
    .replace('/console/:file', '/console/app.js')
    .replace(':name', 'User');

let t: TestApp;
let routes: string[];
let jwks: Server;
type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let signingKey: Key;
let publicJwk: Record<string, unknown>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  const kp = await generateKeyPair('ES256', { extractable: true });
  signingKey = kp.privateKey;
  publicJwk = { ...(await exportJWK(kp.publicKey)), kid: 'idp-1', alg: 'ES256' };
  jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] })));
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  t = await startTestApp({
    SCIMCAST_JWT_ISSUER: 'https://idp.example.test',
    SCIMCAST_JWT_AUDIENCE: 'scimcast',
    SCIMCAST_JWT_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
  });
  routes = registeredRoutes(t);
  for (const scope of SCOPES) {
    tokens[`only:${scope}`] = await t.tokenWith([scope]);
    tokens[`all-but:${scope}`] = await t.tokenWith(SCOPES.filter((s) => s !== scope));
  }
  tokens.revoked = await t.tokenWith([...SCOPES]);
  await t.deps.storage.tokens.revoke(tokens.revoked.split('_')[1]!, new Date());
});
afterAll(async () => {
  await t?.close();
  jwks?.close();
});

/** HEAD routes follow their GET twin. */
const accessOf = (route: string): Access | undefined => ACCESS[route.replace(/^HEAD /, 'GET ')];

async function call(route: string, authorization: string | undefined) {
  const [method, path] = route.split(' ') as [string, string];
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined;
  // A poll with a valid token returns at once rather than holding the test for the long-poll wait.
  const payload = path.endsWith('/poll') ? { returnImmediately: true } : body;
  return t.app.inject({
    method: method as 'GET',
    url: fill(path),
    headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
}

function expect401(res: Awaited<ReturnType<typeof call>>, context: string) {
  expect(res.statusCode, `${context}: ${res.body.slice(0, 200)}`).toBe(401);
  expect(res.headers['www-authenticate'], context).toMatch(/^Bearer realm="scimcast"/);
  // HEAD answers carry no body (RFC 9110 §9.3.2); the status and challenge are what count there.
  if (res.raw.req.method === 'HEAD') return;
  expect(res.json(), context).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
}

describe('every registered route is accounted for', () => {
  it('the router has exactly the routes ACCESS lists (a new route must be added there, with its scope)', () => {
    const unlisted = routes.filter((r) => accessOf(r) === undefined);
    expect(unlisted, 'routes without an entry in ACCESS').toEqual([]);
    const gone = Object.keys(ACCESS).filter((r) => !routes.includes(r));
    expect(gone, 'ACCESS entries with no route').toEqual([]);
    expect(routes.length).toBeGreaterThanOrEqual(Object.keys(ACCESS).length);
  });

  it('public routes answer without a token', async () => {
    for (const route of routes.filter((r) => accessOf(r) === 'public')) {
      const res = await call(route, undefined);
      expect([200, 503], `${route}: ${res.statusCode}`).toContain(res.statusCode); // /readyz is 503 without a worker
    }
  });

  it('protected routes refuse a missing, malformed, unknown or revoked token with 401', async () => {
    const bad: Array<[string, string | undefined]> = [
      ['missing', undefined],
      ['empty', ''],
      ['Basic scheme', `Basic ${Buffer.from('admin:admin').toString('base64')}`],
      ['Bearer without a token', 'Bearer '],
      ['two tokens', `Bearer ${t.token} ${t.token}`],
      ['unknown opaque token', 'Bearer sct_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
      ['revoked token', `Bearer ${tokens.revoked}`],
      ['token hash instead of token', `Bearer ${'0'.repeat(64)}`],
    ];
    for (const route of routes.filter((r) => accessOf(r) !== 'public')) {
      for (const [name, header] of bad) expect401(await call(route, header), `${route} with ${name} token`);
    }
  });

  it('scoped routes refuse a token without their scope (403 insufficient_scope) and accept one with only that scope', async () => {
    for (const route of routes) {
      const access = accessOf(route)!;
      if (access === 'public' || access === 'authenticated') continue;
      const refused = await call(route, `Bearer ${tokens[`all-but:${access}`]}`);
      expect(refused.statusCode, `${route} without ${access}`).toBe(403);
      expect(refused.headers['www-authenticate'], route).toMatch(new RegExp(`error="insufficient_scope", scope="${access}"`));
      const allowed = await call(route, `Bearer ${tokens[`only:${access}`]}`);
      expect([401, 403], `${route} with only ${access}: ${allowed.statusCode} ${allowed.body.slice(0, 200)}`).not.toContain(allowed.statusCode);
      expect(allowed.statusCode, `${route}: ${allowed.body.slice(0, 200)}`).toBeLessThan(500);
    }
  });

  it('routes for any valid token accept a token with no scopes at all', async () => {
    const none = await t.tokenWith([]);
    for (const route of routes.filter((r) => accessOf(r) === 'authenticated')) {
      const res = await call(route, `Bearer ${none}`);
      expect([401, 403], `${route}: ${res.statusCode}`).not.toContain(res.statusCode);
      expect(res.statusCode, route).toBeLessThan(500);
    }
  });

  it('an unknown route is a SCIM 404, with or without a token', async () => {
    for (const auth of [undefined, `Bearer ${t.token}`]) {
      const res = await call('GET /scim/v2/Nothing', auth);
      expect(res.statusCode).toBe(404);
      expect(res.json().schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    }
  });
});

describe('JWT access tokens that must never be accepted', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const claims = () => ({ iss: 'https://idp.example.test', aud: 'scimcast', sub: 'attacker', scope: SCOPES.join(' '), iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 });
  const signed = (header: Record<string, unknown>, body: Record<string, unknown>, key: Key | Uint8Array = signingKey, crit?: Record<string, boolean>) =>
    new SignJWT(body).setProtectedHeader({ typ: 'at+jwt', ...header } as Record<string, unknown> as { alg: string }).sign(key, crit ? { crit } : undefined);

  async function forged(): Promise<Array<[string, string]>> {
    const other = await generateKeyPair('ES256', { extractable: true });
    const otherJwk = { ...(await exportJWK(other.publicKey)), kid: 'idp-1' };
    const { exp: _exp, ...noExp } = claims();
    return [
      ['alg none', `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims())}.`],
      ['alg none, kid of a real key', `${b64({ alg: 'none', typ: 'at+jwt', kid: 'idp-1' })}.${b64(claims())}.`],
      ['HS256 keyed with the public JWK (key confusion)', await signed({ alg: 'HS256', kid: 'idp-1' }, claims(), new TextEncoder().encode(JSON.stringify(publicJwk)))],
      ['unknown kid', await signed({ alg: 'ES256', kid: 'idp-2' }, claims(), other.privateKey)],
      ['right kid, wrong key', await signed({ alg: 'ES256', kid: 'idp-1' }, claims(), other.privateKey)],
      ['key embedded in the header (jwk)', await signed({ alg: 'ES256', jwk: otherJwk }, claims(), other.privateKey)],
      ['key URL in the header (jku)', await signed({ alg: 'ES256', kid: 'idp-2', jku: 'http://127.0.0.1:1/jwks.json' }, claims(), other.privateKey)],
      ['no exp', await signed({ alg: 'ES256', kid: 'idp-1' }, noExp)],
      ['expired', await signed({ alg: 'ES256', kid: 'idp-1' }, { ...claims(), exp: Math.floor(Date.now() / 1000) - 600 })],
      ['not yet valid', await signed({ alg: 'ES256', kid: 'idp-1' }, { ...claims(), nbf: Math.floor(Date.now() / 1000) + 3600 })],
      ['other issuer', await signed({ alg: 'ES256', kid: 'idp-1' }, { ...claims(), iss: 'https://evil.example' })],
      ['other audience', await signed({ alg: 'ES256', kid: 'idp-1' }, { ...claims(), aud: 'someone-else' })],
      ['unknown critical header', await signed({ alg: 'ES256', kid: 'idp-1', crit: ['x-must-understand'], 'x-must-understand': 1 }, claims(), signingKey, { 'x-must-understand': true })],
      ['a SET from the same issuer, not an access token (typ secevent+jwt)', await signed({ alg: 'ES256', kid: 'idp-1', typ: 'secevent+jwt' }, claims())],
      ['no sub', await signed({ alg: 'ES256', kid: 'idp-1' }, { ...claims(), sub: undefined, client_id: 'app' })],
      ['signature stripped', (await signed({ alg: 'ES256', kid: 'idp-1' }, claims())).replace(/\.[^.]+$/, '.')],
    ];
  }

  it('a well-formed token from the IdP is accepted (the control)', async () => {
    const good = await signed({ alg: 'ES256', kid: 'idp-1' }, claims());
    expect((await call('GET /scim/v2/users', `Bearer ${good}`)).statusCode).toBe(200);
  });

  it('each forged or invalid token gets 401 on every protected route', async () => {
    const protectedRoutes = routes.filter((r) => accessOf(r) !== 'public');
    for (const [name, token] of await forged()) {
      for (const route of protectedRoutes) expect401(await call(route, `Bearer ${token}`), `${route} with ${name}`);
    }
  });
});
