import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { AppError } from '../../src/core/errors.js';
import type { Deps } from '../../src/deps.js';
import { verifySet } from '../../src/events/verify.js';
import { buildApp } from '../../src/http/app.js';
import { makeDeps, prepare } from '../../src/main.js';
import { startWorker } from '../../src/worker/run.js';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';

/**
 * Secrets at rest: with SCIMCAST_KEY_ENCRYPTION_KEY set, signing private keys and push
 * authorization_header values are stored AES-256-GCM encrypted, and everything that uses them
 * (signing, the JWKS, push) works as before. Checked on the raw rows, through real pushes to a
 * loopback receiver, real `scimcast` child processes and a second set of dependencies on the same
 * database standing in for a restarted process with another configuration.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';
const ROOT = join(import.meta.dirname, '../..');
const newKek = () => randomBytes(32);
/** Every way the key bytes could be written down: none may turn up in any output. */
const forms = (k: Buffer) => [k.toString('hex'), k.toString('base64').replace(/=+$/, ''), k.toString('base64url')];

const apps: TestApp[] = [];
const receivers: Receiver[] = [];
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  for (const t of apps) await t.close();
  for (const r of receivers) await r.close();
});

async function start(env: Record<string, string>, opts: Parameters<typeof startTestApp>[1] = {}) {
  const t = await startTestApp({ SCIMCAST_PUSH_ALLOW: '127.0.0.1', SCIMCAST_PUSH_BACKOFF_BASE_MS: '20', SCIMCAST_PUSH_BACKOFF_CAP_MS: '100', ...env }, opts);
  apps.push(t);
  return t;
}

async function pushStream(t: TestApp, header: string) {
  const rec = await startReceiver();
  receivers.push(rec);
  const res = await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url, authorization_header: header }, events_requested: [`${EV}prov:create:notice`] });
  expect(res.statusCode, res.body).toBe(201);
  return { rec, id: res.json().stream_id as string, aud: res.json().aud as string };
}

const mkUser = async (t: { req: TestApp['req'] }, userName: string) => expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName })).statusCode).toBe(201);
const rawKeys = async (t: TestApp) => (await t.database.pool.query<{ kid: string; private_jwk: Record<string, unknown>; row: string }>('select kid, private_jwk, k::text as row from signing_keys k')).rows;
const rawFeed = async (t: TestApp, id: string) => (await t.database.pool.query<{ authorization_header: string; row: string }>('select authorization_header, f::text as row from feeds f where id = $1', [id])).rows[0]!;

/** Another process on the same database with its own configuration: dependencies, a worker, an app. */
async function processWith(t: TestApp, env: Record<string, string>, opts: { worker?: boolean } = {}) {
  const config = loadConfig({ DATABASE_URL: t.dbUrl, BASE_URL, LOG_LEVEL: 'silent', SCIMCAST_PUSH_ALLOW: '127.0.0.1', ...env });
  const deps = makeDeps(config, t.database);
  const worker = opts.worker ? await startWorker(deps, t.database.pool) : undefined;
  const app = buildApp(deps, { logger: false });
  await app.ready();
  const close = async () => {
    await app.close();
    await worker?.stop();
    await deps.close();
  };
  closers.push(close);
  const req: TestApp['req'] = (method, url, body) =>
    app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/scim+json' }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  return { deps, app, req };
}

async function keyEncryptionError(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('ERR_KEY_ENCRYPTION');
    return (e as AppError).message;
  }
  throw new Error('expected ERR_KEY_ENCRYPTION');
}

async function scimcast(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/scimcast.js', ...args], { cwd: ROOT, timeout: 60_000, env: { ...process.env, BASE_URL, LOG_LEVEL: 'info', ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('secrets at rest with SCIMCAST_KEY_ENCRYPTION_KEY', () => {
  it('stores the private JWK and the authorization_header encrypted; SETs still verify against /jwks.json and pushes carry the right header; the KEK is in no log line', async () => {
    const kek = newKek();
    const logs: string[] = [];
    const t = await start({ SCIMCAST_KEY_ENCRYPTION_KEY: kek.toString('base64'), LOG_LEVEL: 'trace' }, { worker: true, logStream: { write: (l) => void logs.push(l) } });
    const header = `Bearer at-rest-${randomBytes(8).toString('hex')}`;
    const { rec, id, aud } = await pushStream(t, header);
    await mkUser(t, 'at-rest-1');
    await until(() => rec.received.length >= 1);

    expect(rec.received[0]!.headers.authorization).toBe(header);
    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    const claims = await verifySet(rec.received[0]!.body, { jwks, audience: aud });
    expect(claims.events).toHaveProperty(`${EV}prov:create:notice`);

    // The raw rows: no private member, no header value, only envelopes.
    const signer = (await t.deps.storage.keys.current())!;
    const d = (signer.privateJwk as { d: string }).d;
    expect(d).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    for (const k of await rawKeys(t)) {
      expect(k.private_jwk).not.toHaveProperty('d');
      expect(k.private_jwk).toMatchObject({ enc: 'A256GCM', v: 1 });
      expect(k.row).not.toContain(d);
    }
    const f = await rawFeed(t, id);
    expect(f.authorization_header).toMatch(/^enc:v1:/);
    expect(f.row).not.toContain(header.slice('Bearer '.length));

    // A sealed header copied into another stream's row is refused, not sent to that receiver.
    const other = await pushStream(t, 'Bearer other-receiver');
    await t.database.pool.query('update feeds set authorization_header = $1 where id = $2', [f.authorization_header, other.id]);
    expect(await keyEncryptionError(() => t.deps.storage.feeds.get(other.id))).toContain(`feeds.authorization_header of ${other.id} fails authentication`);

    const text = logs.join('\n');
    expect(text).toContain('incoming request');
    for (const form of forms(kek)) expect(text).not.toContain(form);
  });

  it('plaintext rows written without a KEK keep working without one, are read with one, and are encrypted when a process starts with it', async () => {
    const t = await start({});
    const header = `Bearer plain-${randomBytes(8).toString('hex')}`;
    const { rec, id, aud } = await pushStream(t, header);
    await mkUser(t, 'plain-1');
    const [plainKey] = await rawKeys(t);
    expect(plainKey!.private_jwk).toHaveProperty('d');
    expect((await rawFeed(t, id)).authorization_header).toBe(header);

    // A process configured with a KEK reads the plaintext rows as they are...
    const kek = newKek();
    const p = await processWith(t, { SCIMCAST_KEY_ENCRYPTION_KEY: kek.toString('hex') }, { worker: true });
    expect((await p.deps.storage.feeds.get(id))?.authorizationHeader).toBe(header);
    // ...and encrypts them at start: the same signing key (same kid), now sealed.
    await prepare(p.deps);
    const [sealedKey] = await rawKeys(t);
    expect(sealedKey!.kid).toBe(plainKey!.kid);
    expect(sealedKey!.private_jwk).not.toHaveProperty('d');
    expect((await rawFeed(t, id)).authorization_header).toMatch(/^enc:v1:/);

    // It signs with that key and pushes the header it decrypted; the JWKS needs no KEK to serve.
    await mkUser(p, 'plain-2');
    await until(() => rec.received.length >= 2);
    const last = rec.received[rec.received.length - 1]!;
    expect(last.headers.authorization).toBe(header);
    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    await verifySet(last.body, { jwks, audience: aud });
    expect(decodeProtectedHeader(last.body).kid).toBe(plainKey!.kid);

    // The process without the KEK now meets encrypted rows: a clear error naming the setting.
    const msg = await keyEncryptionError(() => prepare(t.deps));
    expect(msg).toMatch(/is stored encrypted, but SCIMCAST_KEY_ENCRYPTION_KEY is not set/);
    expect(await keyEncryptionError(() => t.deps.storage.feeds.get(id))).toContain(`feeds.authorization_header of ${id} is stored encrypted, but SCIMCAST_KEY_ENCRYPTION_KEY is not set`);
  });

  it('a wrong or missing KEK stops `scimcast serve` and `migrate` with an error naming SCIMCAST_KEY_ENCRYPTION_KEY; a rotation reads the previous KEK and re-encrypts', async () => {
    const [k1, k2, k3] = [newKek(), newKek(), newKek()];
    const t = await start({ SCIMCAST_KEY_ENCRYPTION_KEY: k1.toString('base64url') });
    const header = `Bearer rotate-${randomBytes(8).toString('hex')}`;
    const { id } = await pushStream(t, header);
    const sealedBefore = (await rawFeed(t, id)).authorization_header;

    const [wrong, missing] = await Promise.all([
      scimcast(['serve', '--port', '0'], { DATABASE_URL: t.dbUrl, SCIMCAST_KEY_ENCRYPTION_KEY: k2.toString('hex') }),
      scimcast(['migrate'], { DATABASE_URL: t.dbUrl }),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^scimcast: signing_keys\.private_jwk of \S+ was encrypted with key-encryption key \S+, which is neither SCIMCAST_KEY_ENCRYPTION_KEY \(\S+\) nor SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS \(unset\): set the key it was encrypted with$/m);
    expect(wrong.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^scimcast: signing_keys\.private_jwk of \S+ is stored encrypted, but SCIMCAST_KEY_ENCRYPTION_KEY is not set/m);
    for (const out of [wrong, missing]) for (const form of [...forms(k1), ...forms(k2)]) expect(`${out.stdout}${out.stderr}`).not.toContain(form);
    // Nothing was changed by the refused starts.
    expect((await rawFeed(t, id)).authorization_header).toBe(sealedBefore);

    // Rotation: the new KEK current, the old one previous. Start re-encrypts every value.
    const p = await processWith(t, { SCIMCAST_KEY_ENCRYPTION_KEY: k2.toString('hex'), SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS: k1.toString('base64url') });
    await prepare(p.deps);
    const resealed = (await rawFeed(t, id)).authorization_header;
    expect(resealed).toMatch(/^enc:v1:/);
    expect(resealed.split(':')[2]).not.toBe(sealedBefore.split(':')[2]);
    expect((await p.deps.storage.feeds.get(id))?.authorizationHeader).toBe(header);
    await mkUser(p, 'rotated-1');

    // Afterwards the new KEK alone reads everything, and the old one alone or a third one reads nothing.
    const q = await processWith(t, { SCIMCAST_KEY_ENCRYPTION_KEY: k2.toString('base64') });
    await prepare(q.deps);
    expect((await q.deps.storage.feeds.get(id))?.authorizationHeader).toBe(header);
    for (const k of [k1, k3]) {
      const r: Deps = makeDeps(loadConfig({ DATABASE_URL: t.dbUrl, BASE_URL, SCIMCAST_KEY_ENCRYPTION_KEY: k.toString('hex') }), t.database);
      closers.push(() => r.close());
      expect(await keyEncryptionError(() => prepare(r))).toMatch(/neither SCIMCAST_KEY_ENCRYPTION_KEY/);
    }
  });
});
