import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.js';
import { kekId, makeSecretBox, parseKeyEncryptionKey } from '../../../src/core/secret-box.js';

const kek = () => {
  const p = parseKeyEncryptionKey(randomBytes(32).toString('base64'));
  if ('error' in p) throw new Error(p.error);
  return p.key;
};
const A = { column: 'feeds.authorization_header', id: 'f-a' };
const B = { column: 'feeds.authorization_header', id: 'f-b' };
const KEY = { column: 'signing_keys.private_jwk', id: 'es256-1' };

/** The error a caller gets: an AppError with a stable code whose message names the setting or the row. */
function failure(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('ERR_KEY_ENCRYPTION');
    return e as AppError;
  }
  throw new Error('expected a failure');
}

describe('secret box: AES-256-GCM for secrets at rest', () => {
  it('seals text and JSON into versioned envelopes that hide the value and open back to it', () => {
    const box = makeSecretBox({ current: kek() });
    const sealed = box.sealText('Bearer s3cret-value', A);
    expect(sealed).toMatch(/^enc:v1:[A-Za-z0-9_-]{11}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{22}$/);
    expect(sealed).not.toContain('s3cret');
    expect(box.openText(sealed, A)).toBe('Bearer s3cret-value');
    // A fresh IV per value: the same secret sealed twice looks different.
    expect(box.sealText('Bearer s3cret-value', A)).not.toBe(sealed);

    const jwk = { kty: 'EC', crv: 'P-256', x: 'xx', y: 'yy', d: 'private-d-member', kid: 'es256-1' };
    const env = box.sealJson(jwk, KEY) as Record<string, unknown>;
    expect(Object.keys(env).sort()).toEqual(['ct', 'enc', 'iv', 'kek', 'tag', 'v']);
    expect(env).toMatchObject({ enc: 'A256GCM', v: 1 });
    expect(JSON.stringify(env)).not.toContain('private-d-member');
    expect(box.openJson(env, KEY)).toEqual(jwk);
  });

  it('binds a value to its row: copied to another row, or altered, it fails authentication', () => {
    const box = makeSecretBox({ current: kek() });
    const sealed = box.sealText('Bearer for-a', A);
    expect(failure(() => box.openText(sealed, B)).message).toMatch(/feeds\.authorization_header of f-b fails authentication .*copied from another row/);
    const parts = sealed.split(':');
    parts[4] = Buffer.from('Bearer for-b').toString('base64url');
    expect(failure(() => box.openText(parts.join(':'), A)).message).toMatch(/fails authentication/);
    const env = box.sealJson({ d: 'x' }, KEY);
    expect(failure(() => box.openJson(env, { ...KEY, id: 'es256-2' })).message).toMatch(/signing_keys\.private_jwk of es256-2/);
  });

  it('without a KEK stores plaintext, reads plaintext, and refuses an encrypted value naming SCIMCAST_KEY_ENCRYPTION_KEY', () => {
    const plain = makeSecretBox(undefined);
    expect(plain.encrypting).toBe(false);
    expect(plain.sealText('Bearer x', A)).toBe('Bearer x');
    expect(plain.sealJson({ d: 'x' }, KEY)).toEqual({ d: 'x' });
    const sealed = makeSecretBox({ current: kek() }).sealText('Bearer x', A);
    expect(failure(() => plain.openText(sealed, A)).message).toMatch(/stored encrypted, but SCIMCAST_KEY_ENCRYPTION_KEY is not set/);
  });

  it('with a KEK still reads plaintext values written before it was set', () => {
    const box = makeSecretBox({ current: kek() });
    expect(box.openText('Bearer old-plain', A)).toBe('Bearer old-plain');
    expect(box.openJson({ kty: 'EC', d: 'old' }, KEY)).toEqual({ kty: 'EC', d: 'old' });
    expect(box.isCurrentText('Bearer old-plain')).toBe(false);
    expect(box.isCurrentJson({ kty: 'EC', d: 'old' })).toBe(false);
  });

  it('reads values of the previous KEK during a rotation; a wrong KEK is named, not used', () => {
    const [k1, k2, k3] = [kek(), kek(), kek()];
    const old = makeSecretBox({ current: k1 }).sealText('Bearer rotated', A);
    const rotating = makeSecretBox({ current: k2, previous: k1 });
    expect(rotating.openText(old, A)).toBe('Bearer rotated');
    expect(rotating.isCurrentText(old)).toBe(false);
    expect(rotating.isCurrentText(rotating.sealText('Bearer rotated', A))).toBe(true);
    const wrong = failure(() => makeSecretBox({ current: k3 }).openText(old, A));
    expect(wrong.message).toContain(`encrypted with key-encryption key ${kekId(k1)}, which is neither SCIMCAST_KEY_ENCRYPTION_KEY (${kekId(k3)})`);
    expect(wrong.message).toContain('SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS');
  });
});

describe('parseKeyEncryptionKey', () => {
  const bytes = randomBytes(32);
  it('takes 32 bytes as hex, base64 or base64url', () => {
    for (const text of [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('base64').replace(/=$/, '')]) {
      const p = parseKeyEncryptionKey(text);
      expect('key' in p && p.key.export().equals(bytes), text.length.toString()).toBe(true);
    }
  });
  it('refuses short, long, malformed and placeholder values without quoting them', () => {
    for (const text of [randomBytes(16).toString('hex'), randomBytes(31).toString('base64'), randomBytes(33).toString('hex'), 'correct horse battery staple, with a long tail', '0'.repeat(64), 'a'.repeat(43), '0123456789abcdef'.repeat(4)]) {
      const p = parseKeyEncryptionKey(text);
      expect('error' in p, text).toBe(true);
      if ('error' in p) expect(p.error).not.toContain(text);
    }
  });
});
