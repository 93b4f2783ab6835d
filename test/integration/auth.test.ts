import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApp, type TestApp } from '../helpers/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

let t: TestApp;
let jwks: Server;
type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let privateKey: Key;
let jwksUrl: string;
let jwksFetches = 0;

beforeAll(async () => {
  const kp = await generateKeyPair('ES256');
  privateKey = kp.privateKey;
  const jwk = { ...(await exportJWK(kp.publicKey)), kid: 'k1', alg: 'ES256' };
  jwks = createServer((_req, res) => {
    jwksFetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  t = await startTestApp({ SCIMCAST_JWT_ISSUER: 'https://idp.example.test', SCIMCAST_JWT_AUDIENCE: 'scimcast', SCIMCAST_JWT_JWKS_URL: jwksUrl });
});
afterAll(async () => {
  await t?.close();
  jwks?.close();
});

const jwt = (claims: Record<string, unknown>, opts: { iss?: string; aud?: string } = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
    .setIssuer(opts.iss ?? 'https://idp.example.test')
    .setAudience(opts.aud ?? 'scimcast')
    .setSubject('client-a')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);

describe('Bearer authentication (RFC 6750)', () => {
  it('401 with WWW-Authenticate when the token is missing or unknown', async () => {
    const missing = await t.req('GET', '/scim/v2/Users', undefined, { auth: null });
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer realm="scimcast"/);
    expect(missing.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
    const bad = await t.req('GET', '/scim/v2/Users', undefined, { auth: 'sct_nope_nope' });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('403 when the token lacks the scope; the write does not happen', async () => {
    const readOnly = await t.tokenWith(['scim:read']);
    expect((await t.req('GET', '/scim/v2/Users', undefined, { auth: readOnly })).statusCode).toBe(200);
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'forbidden' }, { auth: readOnly });
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toMatch(/insufficient_scope/);
    const list = (await t.req('GET', '/scim/v2/Users?filter=' + encodeURIComponent('userName eq "forbidden"'))).json();
    expect(list.totalResults).toBe(0);
  });

  it('a revoked token is refused', async () => {
    const tok = await t.tokenWith(['scim:read']);
    const id = tok.split('_')[1]!;
    await t.deps.storage.tokens.revoke(id, new Date());
    expect((await t.req('GET', '/scim/v2/Users', undefined, { auth: tok })).statusCode).toBe(401);
  });

  it('discovery and health need no token', async () => {
    for (const url of ['/scim/v2/ServiceProviderConfig', '/scim/v2/Schemas', '/scim/v2/ResourceTypes', '/healthz']) {
      expect((await t.req('GET', url, undefined, { auth: null })).statusCode, url).toBe(200);
    }
  });
});

describe('JWT access tokens (RFC 9068)', () => {
  it('accepts a valid JWT and applies its scopes', async () => {
    const token = await jwt({ scope: 'scim:read scim:write' });
    const created = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'jwt-user' }, { auth: token });
    expect(created.statusCode).toBe(201);
    const noWrite = await jwt({ scope: 'scim:read' });
    expect((await t.req('DELETE', `/scim/v2/Users/${created.json().id}`, undefined, { auth: noWrite })).statusCode).toBe(403);
  });

  it('rejects a wrong issuer, a wrong audience, alg none and an unknown key', async () => {
    const wrongIss = await jwt({ scope: 'scim:read' }, { iss: 'https://evil.example' });
    const wrongAud = await jwt({ scope: 'scim:read' }, { aud: 'other' });
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: 'https://idp.example.test', aud: 'scimcast', sub: 'x', scope: 'scim:read', exp: 9999999999 })).toString('base64url');
    const none = `${header}.${payload}.`;
    const other = await generateKeyPair('ES256');
    const unknownKey = await new SignJWT({ scope: 'scim:read' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k2', typ: 'at+jwt' })
      .setIssuer('https://idp.example.test')
      .setAudience('scimcast')
      .setSubject('x')
      .setExpirationTime('5m')
      .sign(other.privateKey);
    for (const token of [wrongIss, wrongAud, none, unknownKey]) {
      expect((await t.req('GET', '/scim/v2/Users', undefined, { auth: token })).statusCode).toBe(401);
    }
  });

  it('fetches the JWKS once, not per request: later tokens are verified with the cached keys', async () => {
    expect((await t.req('GET', '/scim/v2/Users', undefined, { auth: await jwt({ scope: 'scim:read' }) })).statusCode).toBe(200);
    const before = jwksFetches;
    expect(before).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 5; i++) {
      expect((await t.req('GET', '/scim/v2/Users', undefined, { auth: await jwt({ scope: 'scim:read', n: i }) })).statusCode).toBe(200);
    }
    expect(jwksFetches).toBe(before);
  });

  it('ServiceProviderConfig advertises both bearer schemes', async () => {
    const spc = (await t.req('GET', '/scim/v2/ServiceProviderConfig')).json();
    expect(spc.authenticationSchemes.map((s: { name: string }) => s.name)).toEqual(['OAuth Bearer Token', 'JWT access token']);
  });
});
