import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makePasswordHasher, passwordsIn, prehash, protectPassword, protectPasswords, type PasswordHasher, type Scrypt } from '../../../src/provisioning/password.js';

/**
 * Passwords are stored as scrypt$N$r$p$<salt>$<key> (the form rows already stored have) at the
 * unchanged cost N=16384, r=8, p=1; the hasher is injected, so these tests count and hold hashes.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** A fake scrypt that records the calls and how many were pending at once. */
function countingScrypt() {
  const seen: { password: string; cost: unknown; keyBytes: number }[] = [];
  let pending = 0;
  let maxPending = 0;
  const scrypt: Scrypt = async (password, salt, keyBytes, cost) => {
    seen.push({ password, cost, keyBytes });
    maxPending = Math.max(maxPending, ++pending);
    await new Promise((r) => setImmediate(r));
    pending--;
    return Buffer.from(`${password}|${salt.toString('hex')}`).subarray(0, keyBytes);
  };
  return { scrypt, seen, maxPending: () => maxPending };
}

let n = 0;
const salts = () => Buffer.from(String(n++).padStart(16, '0'));

describe('stored password form', () => {
  it('is scrypt$16384$8$1$<salt>$<key>, the key derived from the cleartext at that cost', async () => {
    const real: Scrypt = async (pw, salt, keyBytes, cost) => scryptSync(pw, salt, keyBytes, cost);
    const hasher = makePasswordHasher(real, 1);
    const doc = await protectPassword({ schemas: [USER], userName: 'a', password: 't1meMach1ne' }, hasher);
    const m = /^scrypt\$16384\$8\$1\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/.exec(doc.password as string);
    expect(m).not.toBeNull();
    expect(scryptSync('t1meMach1ne', Buffer.from(m![1]!, 'base64url'), 32, { N: 16384, r: 8, p: 1 }).toString('base64url')).toBe(m![2]);
    expect(doc.userName).toBe('a');
  });

  it('leaves a document without a password as it is', async () => {
    const { scrypt, seen } = countingScrypt();
    const doc = { schemas: [USER], userName: 'a' };
    expect(await protectPassword(doc, makePasswordHasher(scrypt, 1, salts))).toBe(doc);
    expect(seen).toEqual([]);
  });
});

describe('a batch of passwords', () => {
  it('keeps at most `parallelism` of its hashes pending, so a lone request is not queued behind the batch', async () => {
    const { scrypt, seen, maxPending } = countingScrypt();
    const hasher = makePasswordHasher(scrypt, 3, salts);
    const docs = Array.from({ length: 20 }, (_, i) => ({ userName: `u${i}`, password: `pw${i}` }));
    const out = await protectPasswords(docs, hasher);
    expect(seen.map((s) => s.password)).toEqual(docs.map((d) => d.password));
    expect(maxPending()).toBe(3);
    expect(out.map((d) => d.userName)).toEqual(docs.map((d) => d.userName));
    expect(out.every((d, i) => d.password !== docs[i]!.password && String(d.password).startsWith('scrypt$16384$8$1$'))).toBe(true);
  });
});

describe('prehash: hashes computed before a transaction, handed out once each', () => {
  const hasherWith = () => {
    const c = countingScrypt();
    return { ...c, hasher: makePasswordHasher(c.scrypt, 2, salts) as PasswordHasher };
  };

  it('answers the prehashed cleartexts without hashing again; equal passwords still get their own salt', async () => {
    const { hasher, seen } = hasherWith();
    const ready = await prehash(hasher, ['same', 'same', 'other']);
    expect(seen).toHaveLength(3);
    const a = await ready.hash('same');
    const b = await ready.hash('same');
    const o = await ready.hash('other');
    expect(seen).toHaveLength(3);
    expect(a).not.toBe(b);
    expect(new Set([a, b, o]).size).toBe(3);
    // Beyond what was prehashed, it hashes on demand.
    await ready.hash('same');
    await ready.hash('new');
    expect(seen).toHaveLength(5);
  });

  it('replay() hands the same hashes out again, for the operations of a batch that rolled back', async () => {
    const { hasher, seen } = hasherWith();
    const ready = await prehash(hasher, ['p1', 'p2']);
    const first = [await ready.hash('p1'), await ready.hash('p2')];
    const again = ready.replay();
    expect([await again.hash('p1'), await again.hash('p2')]).toEqual(first);
    expect(seen).toHaveLength(2);
  });
});

describe('passwordsIn: the passwords a request sets, read before validation', () => {
  it('reads a POST or PUT body, attribute names in any case', () => {
    expect(passwordsIn('POST', 'User', { schemas: [USER], userName: 'a', password: 'p1' })).toEqual(['p1']);
    expect(passwordsIn('PUT', 'User', { schemas: [USER], userName: 'a', PassWord: 'p2' })).toEqual(['p2']);
    expect(passwordsIn('POST', 'User', { schemas: [USER], userName: 'a' })).toEqual([]);
    expect(passwordsIn('POST', 'User', { password: 42 })).toEqual([]);
    expect(passwordsIn('POST', 'Group', { displayName: 'g', password: 'p' })).toEqual([]);
    expect(passwordsIn('DELETE', 'User', undefined)).toEqual([]);
  });

  it('reads PATCH operations with a password path or a path-less value (RFC 7644 §3.5.2)', () => {
    const body = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'replace', path: 'password', value: 'p1' },
        { op: 'replace', path: `${USER}:password`, value: 'p2' },
        { op: 'add', value: { password: 'p3', title: 't' } },
        { op: 'replace', path: 'title', value: 'not a password' },
        { op: 'remove', path: 'password' },
      ],
    };
    expect(passwordsIn('PATCH', 'User', body)).toEqual(['p1', 'p2', 'p3']);
    expect(passwordsIn('PATCH', 'User', { operations: [{ Op: 'Replace', Path: 'Password', Value: 'p4' }] })).toEqual(['p4']);
    expect(passwordsIn('PATCH', 'User', { Operations: 'nonsense' })).toEqual([]);
  });
});
