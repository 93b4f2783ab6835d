import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

const base = { DATABASE_URL: 'postgres://x@127.0.0.1/x', BASE_URL: 'https://scim.example.test' };

describe('SCIMCAST_TOKEN_CACHE_TTL_MS', () => {
  it('defaults to 5 seconds; 0 turns the cache off', () => {
    expect(loadConfig(base).tokenCacheTtlMs).toBe(5_000);
    expect(loadConfig({ ...base, SCIMCAST_TOKEN_CACHE_TTL_MS: '0' }).tokenCacheTtlMs).toBe(0);
  });

  it('is refused, naming the setting, above a minute or below 0', () => {
    for (const v of ['60001', '-1', 'soon']) {
      expect(() => loadConfig({ ...base, SCIMCAST_TOKEN_CACHE_TTL_MS: v }), v).toThrow(/SCIMCAST_TOKEN_CACHE_TTL_MS/);
    }
    expect(loadConfig({ ...base, SCIMCAST_TOKEN_CACHE_TTL_MS: '60000' }).tokenCacheTtlMs).toBe(60_000);
  });
});
