import { execFile } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LightMyRequestResponse } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/opaque-token.js';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';

/**
 * Tokens and private keys never appear in responses or logs.
 *
 * The real app runs with its request logger at LOG_LEVEL=trace writing into a sink, a real
 * graphile-worker beside it (its logger writes to this process's stderr, which is captured too),
 * and the `scimcast` CLI in child processes against the same database. A realistic mix goes
 * through it: opaque tokens (valid, scoped, revoked, unknown, malformed, in the query string), JWT
 * access tokens from a loopback IdP (valid, expired, tampered), push streams with an
 * authorization_header whose receivers answer 401 and 500, the operator fixing the header, a poll
 * stream, SCIM errors of every kind, and two forced 500s whose failed SQL statements carry a token
 * hash and an authorization_header among their bound values. Then every captured line and every
 * response (body and headers) is searched for every secret: token values and their secret part,
 * token hashes, JWTs and their signatures, authorization_header values, user passwords, and the
 * private members of every signing key in the database (as JWK members, base64 and PKCS#8 PEM).
 * `scimcast token create` prints its token once by design; that one stdout is left aside.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';
const PUSH = 'urn:ietf:rfc:8935';
const POLL = 'urn:ietf:rfc:8936';
const ROOT = join(import.meta.dirname, '../..');
const rand = () => randomBytes(12).toString('hex');

/** Every log line: the request logger (pino JSON), the worker's stderr, the CLI's stdout/stderr. */
const logLines: Array<{ source: string; line: string }> = [];
/** Every response scimcast gave: status line, headers and body. */
const responses: Array<{ label: string; text: string }> = [];
/** Secrets known before the database is read at the end. */
const bearerValues: string[] = [];
const jwts: string[] = [];
const authHeaders: string[] = [];
const passwords: string[] = [];

let t: TestApp;
let jwks: Server;
let recAuth: Receiver;
let rec500: Receiver;
let restoreStdio: () => void;
let feedsAdminId = '';
const cliOutput: Record<string, { stdout: string; stderr: string }> = {};

function captureStdio(): () => void {
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    logLines.push({ source: 'stderr', line: String(chunk) });
    return (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  return () => void (process.stderr.write = orig);
}

/** One request through the real app; the response is kept for the response checks. */
async function call(label: string, method: string, url: string, opts: { auth?: string | null; authorization?: string; body?: unknown; contentType?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  else if (opts.auth !== null) headers.authorization = `Bearer ${opts.auth ?? t.token}`;
  const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' || Buffer.isBuffer(opts.body) ? opts.body : JSON.stringify(opts.body);
  if (payload !== undefined) headers['content-type'] = opts.contentType ?? 'application/scim+json';
  const res: LightMyRequestResponse = await t.app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) });
  responses.push({ label: `${label}: ${method} ${url.slice(0, 80)} → ${res.statusCode}`, text: `${res.statusCode}\n${JSON.stringify(res.headers)}\n${res.body}` });
  return res;
}

async function cli(name: string, args: string[]) {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/scimcast.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: t.dbUrl, BASE_URL, LOG_LEVEL: 'trace' },
  });
  cliOutput[name] = { stdout, stderr };
  return stdout;
}

async function drive() {
  // --- Opaque tokens: valid (all scopes, scoped, from the CLI), revoked, unknown, malformed.
  const reader = await t.tokenWith(['scim:read']);
  const feedsAdmin = await t.tokenWith(['feeds:admin']);
  feedsAdminId = feedsAdmin.split('_').slice(0, 2).join('_');
  const revoked = await t.tokenWith(['scim:read', 'scim:write']);
  await t.deps.storage.tokens.revoke(revoked.split('_')[1]!, new Date());
  // `unseen` and `cliUnseen` are first sent once the token lookup fails below: a token already
  // verified is answered from the token cache without any statement to fail.
  const unseen = await t.tokenWith(['scim:read']);
  const [cliToken, cliUnseen] = await Promise.all([
    cli('token create', ['token', 'create', '--scopes', 'scim:read,scim:write,feeds:admin', '--name', 'cli-made']).then((o) => o.trim()),
    cli('token create (unseen)', ['token', 'create', '--scopes', 'scim:read', '--name', 'cli-made-unseen']).then((o) => o.trim()),
    // An operator rotation to an RSA key: more private members (p, q, dp, dq, qi) to look for.
    cli('keys rotate', ['keys', 'rotate', '--alg', 'RS256']),
  ]);
  expect(cliToken).toMatch(/^sct_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  const unknown = `sct_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  bearerValues.push(t.token, reader, feedsAdmin, revoked, cliToken, unknown, unseen, cliUnseen);

  await call('valid token', 'GET', '/scim/v2/Users', { auth: reader });
  await call('cli token', 'GET', '/scim/v2/Users?count=1', { auth: cliToken });
  await call('revoked token', 'GET', '/scim/v2/Users', { auth: revoked });
  await call('unknown token', 'GET', '/scim/v2/Users', { auth: unknown });
  await call('token plus junk', 'GET', '/scim/v2/Users', { auth: `${reader}x` });
  await call('two tokens', 'GET', '/scim/v2/Users', { authorization: `Bearer ${reader} ${feedsAdmin}` });
  await call('lowercase scheme', 'GET', '/scim/v2/Users', { authorization: `bearer ${reader}` });
  await call('token as Basic credentials', 'GET', '/scim/v2/Users', { authorization: `Basic ${Buffer.from(`x:${reader}`).toString('base64')}` });
  await call('token without a scheme', 'GET', '/scim/v2/Users', { authorization: reader });
  await call('hash instead of token', 'GET', '/scim/v2/Users', { auth: hashToken(reader) });
  await call('missing scope', 'POST', '/scim/v2/Users', { auth: reader, body: { schemas: [USER], userName: 'no-scope' } });
  // RFC 6750 §2.3 lets clients put the token in the query; scimcast does not accept it there,
  // but the request line is logged, so it must not carry the token into the log.
  await call('token in the query', 'GET', `/scim/v2/Users?access_token=${encodeURIComponent(reader)}`, { auth: null });
  await call('token in the query, with a header too', 'GET', `/scim/v2/Users?count=1&access_token=${reader}`, { auth: reader });
  await call('token pasted into a filter', 'GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${feedsAdmin}"`)}`, { auth: reader });

  // --- JWT access tokens from the loopback IdP: valid, expired, tampered.
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: 'https://idp.example.test', aud: 'scimcast', sub: 'okta-app', scope: 'scim:read scim:write feeds:admin', iat: now, exp: now + 600 };
  const goodJwt = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ: 'at+jwt' }).sign(idpKey);
  const expiredJwt = await new SignJWT({ ...claims, exp: now - 60 }).setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ: 'at+jwt' }).sign(idpKey);
  const tampered = goodJwt.replace(/\.([^.]+)\./, (_m, p: string) => `.${Buffer.from(JSON.stringify({ ...claims, scope: 'admin' })).toString('base64url')}.`);
  jwts.push(goodJwt, expiredJwt, tampered);
  bearerValues.push(goodJwt, expiredJwt, tampered);
  expect((await call('jwt', 'GET', '/scim/v2/Users', { auth: goodJwt })).statusCode).toBe(200);
  expect((await call('expired jwt', 'GET', '/scim/v2/Users', { auth: expiredJwt })).statusCode).toBe(401);
  expect((await call('tampered jwt', 'GET', '/scim/v2/Users', { auth: tampered })).statusCode).toBe(401);

  // --- Streams: push with an authorization_header to receivers that answer 401 and 500; a poll stream.
  const secretA = `Bearer rcv-a-${rand()}`;
  const secretB = `Bearer rcv-b-${rand()}`;
  const secretC = `Token rcv-c-${rand()}`;
  authHeaders.push(secretA, secretB, secretC);
  recAuth.respond = (_n, r) => (r.headers.authorization === secretB ? { status: 202 } : { status: 401, body: 'unauthorized' });
  rec500.respond = () => ({ status: 500, body: 'receiver broke' });
  const a = await call('push stream, wrong header', 'POST', '/ssf/streams', {
    body: { delivery: { method: PUSH, endpoint_url: recAuth.url, authorization_header: secretA }, events_requested: [`${EV}prov:create:notice`] },
  });
  expect(a.statusCode, a.body).toBe(201);
  const streamA = a.json().stream_id as string;
  const c = await call('push stream, failing receiver', 'POST', '/ssf/streams', {
    auth: cliToken,
    body: { delivery: { method: PUSH, endpoint_url: rec500.url, authorization_header: secretC }, events_requested: [`${EV}prov:create:notice`] },
  });
  expect(c.statusCode, c.body).toBe(201);
  const streamC = c.json().stream_id as string;
  const p = await call('poll stream (JWT owner)', 'POST', '/ssf/streams', { auth: goodJwt, body: { delivery: { method: POLL }, events_requested: [`${EV}prov:create:full`] } });
  expect(p.statusCode, p.body).toBe(201);
  const streamP = p.json().stream_id as string;

  // Stream configurations refused: the error bodies must not echo the header.
  const refusedHeader = `Bearer refused-${rand()}`;
  authHeaders.push(refusedHeader);
  for (const [label, delivery, extra] of [
    ['private address', { method: PUSH, endpoint_url: 'https://10.0.0.7/events', authorization_header: refusedHeader }, {}],
    ['plain http', { method: PUSH, endpoint_url: 'http://receiver.example/events', authorization_header: refusedHeader }, {}],
    ['not a URL', { method: PUSH, endpoint_url: 'not a url', authorization_header: refusedHeader }, {}],
    ['header too long', { method: PUSH, endpoint_url: recAuth.url, authorization_header: `${refusedHeader}${'x'.repeat(4096)}` }, {}],
    ['header not a string', { method: PUSH, endpoint_url: recAuth.url, authorization_header: [refusedHeader] }, {}],
    ['unknown member', { method: PUSH, endpoint_url: recAuth.url, authorization_header: refusedHeader }, { authorisation: refusedHeader }],
  ] as const) {
    const r = await call(`stream refused: ${label}`, 'POST', '/ssf/streams', { body: { delivery, ...extra } });
    expect(r.statusCode, `${label}: ${r.body}`).toBe(400);
  }

  // --- SETs: users (one with a password) make pushes to both receivers and SETs to poll.
  for (let i = 0; i < 3; i++) {
    const password = `pw-${rand()}`;
    passwords.push(password);
    const r = await call('create user', 'POST', '/scim/v2/Users', { auth: i === 0 ? goodJwt : undefined, body: { schemas: [USER], userName: `leak-${i}`, password } });
    expect(r.statusCode, r.body).toBe(201);
  }
  await until(() => recAuth.received.length >= 1 && rec500.received.length >= 2);
  await until(async () => (await t.deps.storage.feeds.get(streamA))?.status === 'paused');
  expect(recAuth.received[0]!.headers.authorization, 'the secret went where it belongs').toBe(secretA);
  expect(rec500.received[0]!.headers.authorization).toBe(secretC);

  // The owner looks at the stream, fixes the header and resumes it.
  for (const [label, url] of [
    ['stream list', '/ssf/streams'],
    ['stream by query', `/ssf/streams?stream_id=${streamA}`],
    ['stream by path', `/ssf/streams/${streamA}`],
    ['status', `/ssf/status?stream_id=${streamA}`],
    ['stats', `/ssf/streams/${streamA}/stats`],
    ['dead letters', `/ssf/streams/${streamA}/dead`],
  ]) {
    expect((await call(label!, 'GET', url!)).statusCode).toBe(200);
  }
  expect((await call('stats of the failing stream', 'GET', `/ssf/streams/${streamC}/stats`, { auth: cliToken })).statusCode).toBe(200);
  expect((await call('other owner', 'GET', `/ssf/streams/${streamC}`, { auth: feedsAdmin })).statusCode).toBe(404);
  const fixed = await call('patch header', 'PATCH', '/ssf/streams', { body: { stream_id: streamA, delivery: { method: PUSH, endpoint_url: recAuth.url, authorization_header: secretB } } });
  expect(fixed.statusCode, fixed.body).toBe(200);
  const put = await call('put stream C', 'PUT', '/ssf/streams', {
    auth: cliToken,
    body: { stream_id: streamC, delivery: { method: PUSH, endpoint_url: rec500.url, authorization_header: secretC }, events_requested: [`${EV}prov:create:notice`] },
  });
  expect(put.statusCode, put.body).toBe(200);
  expect((await call('resume', 'POST', '/ssf/status', { body: { stream_id: streamA, status: 'enabled' } })).statusCode).toBe(200);
  await until(() => recAuth.received.some((r) => r.headers.authorization === secretB));
  expect((await call('verify', 'POST', '/ssf/verify', { body: { stream_id: streamA, state: 'check' } })).statusCode).toBe(204);

  // Poll the JWT owner's stream (full events carry user data, never the password).
  const polled = await call('poll', 'POST', `/ssf/streams/${streamP}/poll`, { auth: goodJwt, body: { returnImmediately: true, maxEvents: 10 }, contentType: 'application/json' });
  expect(polled.statusCode, polled.body).toBe(200);
  expect(Object.keys(polled.json().sets).length).toBeGreaterThan(0);
  expect((await call('poll by other owner', 'POST', `/ssf/streams/${streamP}/poll`, { body: { returnImmediately: true }, contentType: 'application/json' })).statusCode).toBe(404);

  // --- SCIM errors of every kind.
  const user = (await call('read user', 'GET', '/scim/v2/Users?filter=userName%20eq%20%22leak-0%22')).json().Resources[0];
  await call('bad filter', 'GET', '/scim/v2/Users?filter=userName%20eq%20((');
  await call('not found', 'GET', '/scim/v2/Users/00000000-0000-4000-8000-000000000000');
  await call('conflict', 'POST', '/scim/v2/Users', { body: { schemas: [USER], userName: 'leak-0', password: passwords[0] } });
  await call('precondition', 'PUT', `/scim/v2/Users/${user.id}`, { body: { schemas: [USER], userName: 'leak-0' }, headers: { 'if-match': 'W/"999"' } });
  await call('invalid JSON', 'POST', '/scim/v2/Users', { body: `{"schemas":["${USER}"],"userName":` });
  await call('wrong media type', 'POST', '/scim/v2/Users', { body: 'userName=x', contentType: 'application/x-www-form-urlencoded' });
  await call('too large', 'POST', '/scim/v2/Users', { body: { schemas: [USER], userName: 'big', displayName: 'x'.repeat(70_000) } });
  await call('bad patch', 'PATCH', `/scim/v2/Users/${user.id}`, { body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'explode' }] } });
  await call('bulk with a failing op', 'POST', '/scim/v2/Bulk', {
    body: {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', bulkId: 'a', path: '/Users', data: { schemas: [USER], userName: 'leak-0', password: passwords[1] } },
        { method: 'DELETE', path: '/Users/00000000-0000-4000-8000-000000000000' },
      ],
    },
  });
  await call('unknown route', 'GET', '/scim/v2/Secrets');
  await call('metrics', 'GET', '/metrics');
  await call('jwks', 'GET', '/jwks.json', { auth: null });
  await call('ssf configuration', 'GET', '/.well-known/ssf-configuration', { auth: null });

  // --- Forced 500s whose failed statements carry secrets among their bound values.
  // 1. Token lookup fails: the statement's parameter is the token hash.
  await t.database.pool.query('alter table api_tokens rename column revoked_at to revoked_at_gone');
  try {
    expect((await call('token lookup fails', 'GET', '/scim/v2/Users', { auth: unseen })).statusCode).toBe(500);
    expect((await call('token lookup fails (CLI token)', 'GET', '/scim/v2/Users', { auth: cliUnseen })).statusCode).toBe(500);
  } finally {
    await t.database.pool.query('alter table api_tokens rename column revoked_at_gone to revoked_at');
  }
  // 2. A stream insert fails: pg's `detail` quotes the failing row, authorization_header included.
  const secretD = `Bearer rcv-d-${rand()}`;
  authHeaders.push(secretD);
  await t.database.pool.query(`alter table feeds add constraint leak_probe check (description is distinct from 'force a 500') not valid`);
  try {
    const r = await call('stream insert fails', 'POST', '/ssf/streams', { body: { description: 'force a 500', delivery: { method: PUSH, endpoint_url: recAuth.url, authorization_header: secretD } } });
    expect(r.statusCode, r.body).toBe(500);
  } finally {
    await t.database.pool.query('alter table feeds drop constraint leak_probe');
  }

  // The operator's read-only views from the CLI are logs too.
  await Promise.all([cli('token list', ['token', 'list']), cli('keys list', ['keys', 'list']), cli('streams stats', ['streams', 'stats', streamA])]);
}

let idpKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

beforeAll(async () => {
  const kp = await generateKeyPair('ES256', { extractable: true });
  idpKey = kp.privateKey;
  const publicJwk = { ...(await exportJWK(kp.publicKey)), kid: 'idp-1', alg: 'ES256' };
  jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] })));
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  recAuth = await startReceiver();
  rec500 = await startReceiver();
  restoreStdio = captureStdio();
  t = await startTestApp(
    {
      LOG_LEVEL: 'trace',
      SCIMCAST_MAX_BODY_SIZE: '65536',
      SCIMCAST_PUSH_BACKOFF_BASE_MS: '50',
      SCIMCAST_PUSH_BACKOFF_CAP_MS: '200',
      SCIMCAST_PUSH_TIMEOUT_MS: '2000',
      SCIMCAST_JWT_ISSUER: 'https://idp.example.test',
      SCIMCAST_JWT_AUDIENCE: 'scimcast',
      SCIMCAST_JWT_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
    },
    { worker: true, logStream: { write: (line) => void logLines.push({ source: 'app', line }) } },
  );
  await drive();
}, 120_000);

afterAll(async () => {
  restoreStdio?.();
  await t?.close();
  await recAuth?.close();
  await rec500?.close();
  jwks?.close();
});

/** Every secret by name, read at the end so the database's own values are included. */
async function secrets(): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const tok of bearerValues) {
    out.push(['bearer token', tok], ['token hash', hashToken(tok)]);
    const secretPart = /^sct_[0-9a-f]+_(.+)$/.exec(tok)?.[1];
    if (secretPart) out.push(['opaque token secret', secretPart]);
  }
  for (const j of jwts) out.push(['JWT signature', j.split('.')[2]!]);
  const { rows: tokenRows } = await t.database.pool.query<{ token_hash: string }>('select token_hash from api_tokens');
  for (const r of tokenRows) out.push(['stored token hash', r.token_hash]);
  const { rows: feedRows } = await t.database.pool.query<{ authorization_header: string }>('select authorization_header from feeds where authorization_header is not null');
  for (const h of new Set([...authHeaders, ...feedRows.map((r) => r.authorization_header)])) {
    out.push(['authorization_header', h], ['authorization_header credential', h.replace(/^\S+\s+/, '')]);
  }
  for (const pw of passwords) out.push(['password', pw]);
  const { rows: keyRows } = await t.database.pool.query<{ kid: string; private_jwk: Record<string, string> }>('select kid, private_jwk from signing_keys');
  for (const k of keyRows) {
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
      const v = k.private_jwk[member];
      if (!v) continue;
      out.push([`${k.kid} private ${member}`, v], [`${k.kid} private ${member} (base64)`, Buffer.from(v, 'base64url').toString('base64').replace(/=+$/, '')]);
    }
    const pem = createPrivateKey({ key: k.private_jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const line of pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'))) out.push([`${k.kid} PKCS#8 PEM line`, line]);
  }
  return out.filter(([, v]) => v.length >= 12);
}

const PEM_ARMOR = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const COMPACT_JWS = /[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/g;

/** The text plus the decoded header and payload of every compact JWS in it (SETs are base64url). */
function withDecodedJws(text: string): string {
  const decoded = (text.match(COMPACT_JWS) ?? []).flatMap((jws) => jws.split('.').slice(0, 2).map((part) => Buffer.from(part, 'base64url').toString('utf8')));
  return [text, ...decoded].join('\n');
}

/** Where each secret turns up, with the secret itself blanked out of the message. */
function findLeaks(corpus: Array<{ where: string; text: string }>, list: Array<[string, string]>): string[] {
  const found: string[] = [];
  for (const { where, text: raw } of corpus) {
    const text = withDecodedJws(raw);
    for (const [name, value] of list) {
      if (text.includes(value)) found.push(`${name} in ${where}: ${text.split(value).join(`<${name}>`).slice(0, 400)}`);
    }
    if (PEM_ARMOR.test(text)) found.push(`PEM private key in ${where}`);
  }
  return found;
}

describe('secrets never reach logs or responses', () => {
  it('the capture saw the traffic: request lines at trace level, the forced 500s with their errors', () => {
    const app = logLines.filter((l) => l.source === 'app').map((l) => JSON.parse(l.line) as { level: number; msg: string; err?: { type?: string; message?: string } });
    expect(app.filter((l) => l.msg === 'incoming request').length).toBeGreaterThanOrEqual(responses.length);
    expect(app.filter((l) => l.msg === 'request completed').length).toBeGreaterThanOrEqual(responses.length);
    const errors = app.filter((l) => l.msg === 'unhandled error');
    expect(errors.length).toBe(3);
    expect(errors.map((e) => e.err?.message ?? '').join('\n')).toMatch(/revoked_at|leak_probe/);
    expect(responses.length).toBeGreaterThan(50);
    // The request line is logged with the token cut out of it, not dropped (src/http/log-options.ts);
    // one completion line per request carries it (and at trace the incoming line too).
    const urls = app.filter((l) => l.msg === 'request completed').map((l) => (l as { req?: { url?: string } }).req?.url ?? '');
    expect(urls.filter((u) => u.includes('access_token=[redacted]')).length).toBe(2);
    expect(urls.some((u) => u.includes(`${feedsAdminId}_[redacted]`))).toBe(true);
    expect(cliOutput['token create']?.stdout.trim()).toMatch(/^sct_/);
    // SETs are searched decoded: the polled full events carry the users' data (but no password).
    const polled = responses.find((r) => r.label.startsWith('poll: '))!;
    expect(withDecodedJws(polled.text)).toMatch(/"userName":"leak-0"/);
  });

  it('no token, token hash, JWT, authorization_header, password or private key in any log line', async () => {
    const corpus = [
      ...logLines.map((l, i) => ({ where: `${l.source} log line ${i}`, text: l.line })),
      // `scimcast token create` prints the new token once by design: its stdout is left aside.
      ...Object.entries(cliOutput).flatMap(([name, o]) => [
        ...(name.startsWith('token create') ? [] : [{ where: `\`scimcast ${name}\` stdout`, text: o.stdout }]),
        { where: `\`scimcast ${name}\` stderr`, text: o.stderr },
      ]),
    ];
    expect(findLeaks(corpus, await secrets())).toEqual([]);
  });

  it('no response carries any of them (bodies and headers, errors included), nor does any pushed SET', async () => {
    const pushed = [...recAuth.received, ...rec500.received];
    expect(pushed.length).toBeGreaterThan(2);
    const leaks = findLeaks(
      [
        ...responses.map((r) => ({ where: r.label, text: r.text })),
        // A receiver gets its own authorization_header as a request header; the SET body carries none of it.
        ...pushed.map((r, i) => ({ where: `SET pushed to a receiver (#${i})`, text: r.body })),
      ],
      await secrets(),
    );
    expect(leaks).toEqual([]);
  });

  it('/jwks.json publishes public members only, for every key, the rotated RSA key too', async () => {
    const doc = (await call('jwks', 'GET', '/jwks.json', { auth: null })).json() as { keys: Array<Record<string, unknown>> };
    const { rows } = await t.database.pool.query<{ kid: string }>('select kid from signing_keys');
    expect(doc.keys.map((k) => k.kid).sort()).toEqual(rows.map((r) => r.kid).sort());
    expect(doc.keys.map((k) => k.kty).sort()).toEqual(['EC', 'RSA']);
    for (const k of doc.keys) for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) expect(k, `${String(k.kid)}.${m}`).not.toHaveProperty(m);
  });

  it('the SSF stream configuration never echoes authorization_header, not even masked', async () => {
    // SSF 1.0 §8.1.1: the receiver supplies authorization_header for the transmitter to send; it is
    // a credential the receiver already holds, so reading it back serves nobody but a thief of a
    // feeds:admin token. scimcast leaves it out of every configuration it returns (src/feeds/streams.ts).
    const list = (await call('stream list', 'GET', '/ssf/streams')).json() as Array<{ delivery: Record<string, unknown> }>;
    const push = list.filter((s) => s.delivery.method === PUSH);
    expect(push.length).toBeGreaterThan(0);
    for (const s of push) {
      expect(s.delivery).not.toHaveProperty('authorization_header');
      expect(Object.keys(s.delivery).sort()).toEqual(['endpoint_url', 'method']);
    }
  });
});
