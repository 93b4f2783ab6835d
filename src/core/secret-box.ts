import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { AppError } from './errors.js';

/**
 * Secrets at rest (signing private JWKs, push authorization_header values): AES-256-GCM under a
 * key-encryption key (KEK) from the configuration. Pure code: the keys are passed in, storage
 * seals what it writes and opens what it reads through this module.
 *
 * - Authenticated (GCM tag), a random 96-bit IV per value (NIST SP 800-38D §8.2.2: at this
 *   volume, a few values per stream and key, random IVs are far from the 2^32 bound).
 * - Bound to its row: the associated data names the column and the row id (kid, stream id), so a
 *   sealed value copied to another row or column fails authentication instead of being used.
 * - Versioned envelopes naming the KEK by a fingerprint, so a rotation can read old values:
 *   jsonb `{"enc":"A256GCM","v":1,"kek":…,"iv":…,"ct":…,"tag":…}`, text `enc:v1:<kek>:<iv>:<ct>:<tag>`
 *   (base64url). No valid Authorization value starts with `enc:`: an auth-scheme is a token, and
 *   `:` is not a token character (RFC 9110 §11.1, §5.6.2), so the prefix cannot be a plaintext.
 * - Without a KEK values are stored as they are (plaintext), and a sealed value read without
 *   one is an error naming SCIMCAST_KEY_ENCRYPTION_KEY rather than garbage handed on.
 */

export const KEK_SETTING = 'SCIMCAST_KEY_ENCRYPTION_KEY';
export const KEK_PREVIOUS_SETTING = 'SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS';

/** Which stored value: the column and the row's id. It is the GCM associated data and names the value in errors. */
export interface SecretSlot {
  readonly column: string;
  readonly id: string;
}

export interface KeyEncryptionKeys {
  readonly current: KeyObject;
  /** The KEK before a rotation: read, never written. */
  readonly previous?: KeyObject | undefined;
}

export interface SecretBox {
  /** True when a KEK is configured: new values are sealed. */
  readonly encrypting: boolean;
  sealText(plain: string, slot: SecretSlot): string;
  openText(stored: string, slot: SecretSlot): string;
  sealJson(value: unknown, slot: SecretSlot): unknown;
  openJson(stored: unknown, slot: SecretSlot): unknown;
  /** Already in the form this configuration writes: sealed under the current KEK, or plaintext without one. */
  isCurrentText(stored: string): boolean;
  isCurrentJson(stored: unknown): boolean;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const TEXT_PREFIX = 'enc:v1:';
const ENC = 'A256GCM';

/**
 * A KEK from the configuration: exactly 32 bytes, written as 64 hex digits or as base64 /
 * base64url (43 characters, or 44 with one `=`), e.g. `openssl rand -base64 32`. Returns a reason
 * when the value is refused; the reason never quotes the value.
 */
export function parseKeyEncryptionKey(text: string): { key: KeyObject } | { error: string } {
  const v = text.trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(v)) bytes = Buffer.from(v, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(v)) bytes = Buffer.from(v, 'base64');
  if (!bytes || bytes.length !== KEY_BYTES) {
    return { error: 'must be 32 random bytes written as 64 hex digits or as base64/base64url (e.g. the output of `openssl rand -base64 32`)' };
  }
  // Not a randomness test, a guard against placeholders ("0000…", "abab…", a repeated phrase):
  // 32 random bytes have about 30 distinct values; fewer than 16 happens with negligible odds.
  if (new Set(bytes).size < 16) return { error: 'is not random enough (too few distinct bytes); use 32 random bytes, e.g. `openssl rand -base64 32`' };
  return { key: createSecretKey(bytes) };
}

/** A short public fingerprint of a KEK for the envelope: which key sealed a value, not the key. */
export function kekId(key: KeyObject): string {
  return createHash('sha256').update('scimcast key-encryption key id\0').update(key.export()).digest().subarray(0, 8).toString('base64url');
}

const aadOf = (slot: SecretSlot) => Buffer.from(`scimcast:v1:${slot.column}:${slot.id}`, 'utf8');
const nameOf = (slot: SecretSlot) => `${slot.column} of ${slot.id}`;
const fail = (message: string) => new AppError('ERR_KEY_ENCRYPTION', message);

interface Sealed {
  kek: string;
  iv: Buffer;
  ct: Buffer;
  tag: Buffer;
}

function isJsonEnvelope(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'enc' in v;
}

function parseJsonEnvelope(v: Record<string, unknown>, slot: SecretSlot): Sealed {
  const s = (x: unknown) => (typeof x === 'string' ? x : '');
  if (v.enc !== ENC || v.v !== 1 || !s(v.kek) || !s(v.iv) || !s(v.tag)) throw fail(`${nameOf(slot)} is an encrypted value in a format this version does not read`);
  return { kek: s(v.kek), iv: Buffer.from(s(v.iv), 'base64url'), ct: Buffer.from(s(v.ct), 'base64url'), tag: Buffer.from(s(v.tag), 'base64url') };
}

function parseTextEnvelope(v: string, slot: SecretSlot): Sealed {
  const parts = v.slice(TEXT_PREFIX.length).split(':');
  if (parts.length !== 4 || !parts[0]) throw fail(`${nameOf(slot)} is an encrypted value in a format this version does not read`);
  const [kek, iv, ct, tag] = parts as [string, string, string, string];
  return { kek, iv: Buffer.from(iv, 'base64url'), ct: Buffer.from(ct, 'base64url'), tag: Buffer.from(tag, 'base64url') };
}

export function makeSecretBox(keys: KeyEncryptionKeys | undefined): SecretBox {
  const current = keys ? { id: kekId(keys.current), key: keys.current } : undefined;
  const previous = keys?.previous ? { id: kekId(keys.previous), key: keys.previous } : undefined;

  const seal = (plain: Buffer, slot: SecretSlot): Sealed => {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', current!.key, iv, { authTagLength: TAG_BYTES });
    c.setAAD(aadOf(slot));
    const ct = Buffer.concat([c.update(plain), c.final()]);
    return { kek: current!.id, iv, ct, tag: c.getAuthTag() };
  };

  const open = (s: Sealed, slot: SecretSlot): Buffer => {
    if (!current) throw fail(`${nameOf(slot)} is stored encrypted, but ${KEK_SETTING} is not set: set it to the key-encryption key it was encrypted with`);
    const k = s.kek === current.id ? current : s.kek === previous?.id ? previous : undefined;
    if (!k) {
      throw fail(
        `${nameOf(slot)} was encrypted with key-encryption key ${s.kek}, which is neither ${KEK_SETTING} (${current.id})` +
          `${previous ? ` nor ${KEK_PREVIOUS_SETTING} (${previous.id})` : ` nor ${KEK_PREVIOUS_SETTING} (unset)`}: set the key it was encrypted with`,
      );
    }
    if (s.iv.length !== IV_BYTES || s.tag.length !== TAG_BYTES) throw fail(`${nameOf(slot)} is a damaged encrypted value`);
    try {
      const d = createDecipheriv('aes-256-gcm', k.key, s.iv, { authTagLength: TAG_BYTES });
      d.setAAD(aadOf(slot));
      d.setAuthTag(s.tag);
      return Buffer.concat([d.update(s.ct), d.final()]);
    } catch {
      // GCM authentication failed: altered, or moved here from another row (the associated data differs).
      throw fail(`${nameOf(slot)} fails authentication under ${k === current ? KEK_SETTING : KEK_PREVIOUS_SETTING}: it was altered or copied from another row`);
    }
  };

  // Opened text values, by envelope and slot: the stream list is read on every change, and a
  // sealed value never changes (a new one gets a new IV), so the cache cannot go stale.
  const opened = new Map<string, string>();
  const OPENED_MAX = 1024;

  return {
    encrypting: current !== undefined,
    sealText(plain, slot) {
      if (!current) return plain;
      const s = seal(Buffer.from(plain, 'utf8'), slot);
      return `${TEXT_PREFIX}${s.kek}:${s.iv.toString('base64url')}:${s.ct.toString('base64url')}:${s.tag.toString('base64url')}`;
    },
    openText(stored, slot) {
      if (!stored.startsWith(TEXT_PREFIX)) return stored;
      const cacheKey = `${slot.column}\0${slot.id}\0${stored}`;
      const hit = opened.get(cacheKey);
      if (hit !== undefined) return hit;
      const plain = open(parseTextEnvelope(stored, slot), slot).toString('utf8');
      if (opened.size >= OPENED_MAX) opened.delete(opened.keys().next().value!);
      opened.set(cacheKey, plain);
      return plain;
    },
    sealJson(value, slot) {
      if (!current) return value;
      const s = seal(Buffer.from(JSON.stringify(value), 'utf8'), slot);
      return { enc: ENC, v: 1, kek: s.kek, iv: s.iv.toString('base64url'), ct: s.ct.toString('base64url'), tag: s.tag.toString('base64url') };
    },
    openJson(stored, slot) {
      if (!isJsonEnvelope(stored)) return stored;
      return JSON.parse(open(parseJsonEnvelope(stored, slot), slot).toString('utf8')) as unknown;
    },
    isCurrentText(stored) {
      if (!stored.startsWith(TEXT_PREFIX)) return !current;
      return current !== undefined && stored.slice(TEXT_PREFIX.length).split(':')[0] === current.id;
    },
    isCurrentJson(stored) {
      if (!isJsonEnvelope(stored)) return !current;
      return current !== undefined && stored.kek === current.id;
    },
  };
}
