import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setClaims } from '../../src/events/claims.js';
import { revokeSigningKey, rotateSigningKey } from '../../src/events/key-store.js';
import { verifySet } from '../../src/events/verify.js';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';
import { jtiOf } from '../helpers/sets.js';

/**
 * `scimcast keys revoke KID`: a compromised signing key leaves /jwks.json at once, signing moves
 * to a new key without a gap, the key never signs again in any process (the signer checks the key
 * in every signing transaction), stored SETs it signed are re-signed with their jti, and the row
 * stays as the record `keys list` shows. The CLI runs as a real child process against the
 * database of the app under test, which stands for every other running process.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';
const ROOT = join(import.meta.dirname, '../..');

let t: TestApp;
const receivers: Receiver[] = [];
beforeAll(async () => {
  t = await startTestApp({ SCIMCAST_PUSH_ALLOW: '127.0.0.1', SCIMCAST_PUSH_BACKOFF_BASE_MS: '20', SCIMCAST_PUSH_BACKOFF_CAP_MS: '100' }, { worker: true });
});
afterAll(async () => {
  await t?.close();
  for (const r of receivers) await r.close();
});

async function keys(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/scimcast.js', 'keys', ...args], {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, DATABASE_URL: t.dbUrl, BASE_URL, LOG_LEVEL: 'silent' },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const jwks = async () => (await t.req('GET', '/jwks.json', undefined, { auth: null })).json() as { keys: Array<{ kid: string }> };
const kids = async () => (await jwks()).keys.map((k) => k.kid).sort();
const mkUser = async (userName: string) => expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName })).statusCode).toBe(201);
const currentKid = async () => (await t.deps.storage.keys.current())!.kid;
const storedJws = async (jti: string) => (await t.deps.storage.events.byJti(jti))!.jws;

async function stream(body: Record<string, unknown>) {
  const res = await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:create:notice`], ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { stream_id: string; aud: string };
}

describe('scimcast keys revoke', () => {
  it('revoking the signing key drops it from /jwks.json at once; the next SET is signed by a new key and verifies; stored SETs it signed are re-signed with their jti; keys list shows it revoked', async () => {
    const rec = await startReceiver();
    receivers.push(rec);
    const push = await stream({ delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url, authorization_header: 'Bearer revoke-test' } });
    const poll = await stream({ delivery: { method: 'urn:ietf:rfc:8936' } });
    const issuerPoll = await stream({ delivery: { method: 'urn:ietf:rfc:8936' }, kid_mode: 'issuer' });

    const k0 = await currentKid();
    await mkUser('before-revoke');
    await until(() => rec.received.length >= 1);
    expect(decodeProtectedHeader(rec.received[0]!.body).kid).toBe(k0);
    // Not polled yet: these SETs, signed by k0, are still to be delivered.
    const pending = [...(await t.deps.storage.events.pending(poll.stream_id, 10)), ...(await t.deps.storage.events.pending(issuerPoll.stream_id, 10))];
    expect(pending).toHaveLength(2);
    expect(decodeProtectedHeader(pending[0]!.jws).kid).toBe(k0);
    expect(decodeProtectedHeader(pending[1]!.jws).kid).toBe(BASE_URL);

    const r = await keys(['revoke', k0]);
    expect(r.code, r.stderr).toBe(0);
    const k1 = /^signing with (\S+)$/m.exec(r.stdout)?.[1];
    expect(r.stdout).toContain(`revoked ${k0}\n`);
    expect(k1).toBeDefined();
    expect(k1).not.toBe(k0);
    expect(r.stdout).toContain(`re-signed 3 stored SETs with ${k1}`);

    // The very next JWKS request no longer lists it.
    expect(await kids()).toEqual([k1]);

    // The very next SET this (other) process signs uses the new key, and verifies.
    await mkUser('after-revoke');
    await until(() => rec.received.length >= 2);
    const next = rec.received[1]!.body;
    expect(decodeProtectedHeader(next).kid).toBe(k1);
    await verifySet(next, { jwks: await jwks(), audience: push.aud });

    // Stored SETs k0 signed carry the same payload and jti, now signed by k1: a receiver can verify them.
    for (const ev of pending) {
      const now = await storedJws(ev.jti);
      expect(now).not.toBe(ev.jws);
      expect(now.split('.')[1]).toBe(ev.jws.split('.')[1]);
      expect(jtiOf(now)).toBe(ev.jti);
      // A kid_mode "issuer" receiver finds the keys by issuer: the published keys under that name.
      const doc = await jwks();
      await verifySet(now, { jwks: decodeProtectedHeader(now).kid === BASE_URL ? { keys: doc.keys.map((k) => ({ ...k, kid: BASE_URL })) } : doc });
    }
    expect(decodeProtectedHeader(await storedJws(pending[0]!.jti)).kid).toBe(k1);
    expect(decodeProtectedHeader(await storedJws(pending[1]!.jti)).kid).toBe(BASE_URL);
    // The SET already delivered by push was re-signed too: a replay of it verifies.
    await verifySet(await storedJws(jtiOf(rec.received[0]!.body)), { jwks: await jwks() });

    // The record stays, without key material; keys list shows it revoked.
    const { rows } = await t.database.pool.query<{ private_jwk: unknown; revoked_at: Date | null }>('select private_jwk, revoked_at from signing_keys where kid = $1', [k0]);
    expect(rows[0]).toMatchObject({ private_jwk: {}, revoked_at: expect.any(Date) });
    const list = await keys(['list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${k0}\\tES256\\t\\S+\\trevoked \\d{4}-\\d\\d-\\d\\dT\\S+Z$`, 'm'));
    expect(list.stdout).toMatch(new RegExp(`^${k1}\\tES256\\t\\S+\\tsigning$`, 'm'));

    // Revoking it again changes nothing and says so.
    const again = await keys(['revoke', k0]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`already revoked ${k0}\n`);
    expect(await currentKid()).toBe(k1);
  });

  it('revoking a retired key removes it from the JWKS and leaves the signer alone', async () => {
    const old = await currentKid();
    const signer = await rotateSigningKey(t.deps.storage, t.deps.clock, () => 'retired1');
    expect(await kids()).toContain(old);
    const r = await revokeSigningKey(t.deps.storage, t.deps.clock, () => 'unused01', old);
    expect(r).toMatchObject({ status: 'revoked', kid: old, replacedBy: undefined, signer });
    expect(await kids()).not.toContain(old);
    expect(await currentKid()).toBe(signer);
  });

  it('a transaction still signing with the key when it is revoked finishes first, and its SET is re-signed', async () => {
    const k = await currentKid();
    const feed = await stream({ delivery: { method: 'urn:ietf:rfc:8936' } });
    const f = (await t.deps.storage.feeds.get(feed.stream_id))!;
    let jti = '';
    let signed!: () => void;
    const hasSigned = new Promise<void>((r) => (signed = r));
    // A change's transaction: it signs a SET, then is slow to commit.
    const tx = t.deps.storage.withTx(async (s) => {
      const now = new Date();
      jti = t.deps.ids.jti(now);
      const claims = setClaims({ iss: BASE_URL, aud: f.aud, jti, txn: 'slow', now, profile: 'rfc9967' }, { format: 'opaque', id: f.id }, `${EV}prov:create:notice`, {});
      const jws = await t.deps.streams.sign(claims, { storage: s });
      expect(decodeProtectedHeader(jws).kid).toBe(k);
      await s.events.insert([{ jti, feedId: f.id, txn: 'slow', eventUri: `${EV}prov:create:notice`, subjectUri: `stream:${f.id}`, jws, createdAt: now }]);
      signed();
      await new Promise((r) => setTimeout(r, 1500));
    });
    await hasSigned;
    const r = await revokeSigningKey(t.deps.storage, t.deps.clock, () => 'inflight', k);
    await tx;
    expect(r.status).toBe('revoked');
    const stored = await storedJws(jti);
    expect(decodeProtectedHeader(stored).kid).toBe(r.status === 'revoked' ? r.replacedBy : undefined);
    await verifySet(stored, { jwks: await jwks() });
  });

  it('revoking an unknown kid exits non-zero with a clear message and changes nothing', async () => {
    const before = await kids();
    const r = await keys(['revoke', 'es256-no-such-key']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('scimcast: no signing key es256-no-such-key (scimcast keys list shows them)\n');
    expect(await kids()).toEqual(before);
  });
});
