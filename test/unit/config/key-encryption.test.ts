import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { AppError } from '../../../src/core/errors.js';

const base = { DATABASE_URL: 'postgres://x@127.0.0.1/x', BASE_URL: 'https://scim.example.test' };

function refusal(env: Record<string, string>): string {
  try {
    loadConfig({ ...base, ...env });
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return (e as AppError).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('SCIMCAST_KEY_ENCRYPTION_KEY configuration', () => {
  it('unset: no key-encryption key, secrets are stored as given', () => {
    expect(loadConfig(base).keyEncryption).toBeUndefined();
  });

  it('a 32-byte key (hex or base64) is accepted, and printing the configuration never shows it', () => {
    const current = randomBytes(32);
    const previous = randomBytes(32);
    const c = loadConfig({ ...base, SCIMCAST_KEY_ENCRYPTION_KEY: current.toString('hex'), SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS: previous.toString('base64url') });
    expect(c.keyEncryption?.current.export().equals(current)).toBe(true);
    expect(c.keyEncryption?.previous?.export().equals(previous)).toBe(true);
    const shown = `${inspect(c, { depth: 10 })}\n${JSON.stringify(c)}`;
    for (const b of [current, previous]) for (const enc of ['hex', 'base64', 'base64url'] as const) expect(shown).not.toContain(b.toString(enc).replace(/=+$/, ''));
  });

  it('a short or placeholder key is refused at start, naming the setting and not the value', () => {
    for (const value of ['change-me', randomBytes(16).toString('base64'), 'f'.repeat(64)]) {
      const msg = refusal({ SCIMCAST_KEY_ENCRYPTION_KEY: value });
      expect(msg).toMatch(/^Invalid configuration:\n {2}SCIMCAST_KEY_ENCRYPTION_KEY: /);
      expect(msg).not.toContain(value);
    }
    expect(refusal({ SCIMCAST_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'), SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS: 'old' })).toContain('SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS: ');
  });

  it('a previous key without a current one is refused (rotation, not a way to turn encryption off)', () => {
    expect(refusal({ SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS: randomBytes(32).toString('hex') })).toMatch(/SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS is read only together with SCIMCAST_KEY_ENCRYPTION_KEY/);
  });
});
