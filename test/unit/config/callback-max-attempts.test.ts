import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

const base = { DATABASE_URL: 'postgres://x@127.0.0.1/x', BASE_URL: 'https://scim.example.test' };

describe('SCIMCAST_CALLBACK_MAX_ATTEMPTS', () => {
  it('defaults to 10 attempts per callback SET', () => {
    expect(loadConfig(base).events.callbackMaxAttempts).toBe(10);
    expect(loadConfig({ ...base, SCIMCAST_CALLBACK_MAX_ATTEMPTS: '3' }).events.callbackMaxAttempts).toBe(3);
  });

  it('is refused, naming the setting, below 1 or not a whole number', () => {
    for (const v of ['0', '-1', '2.5', 'often']) {
      expect(() => loadConfig({ ...base, SCIMCAST_CALLBACK_MAX_ATTEMPTS: v }), v).toThrow(/SCIMCAST_CALLBACK_MAX_ATTEMPTS/);
    }
  });
});
