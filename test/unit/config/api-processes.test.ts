import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

const base = { DATABASE_URL: 'postgres://x@127.0.0.1/x', BASE_URL: 'https://scim.example.test' };

describe('SCIMCAST_API_PROCESSES', () => {
  it('defaults to one API process (no cluster)', () => {
    expect(loadConfig(base).apiProcesses).toBe(1);
    expect(loadConfig({ ...base, SCIMCAST_API_PROCESSES: '3' }).apiProcesses).toBe(3);
  });

  it('is refused, naming the setting, below 1, above 64 or not a whole number', () => {
    for (const v of ['0', '65', '1.5', 'many']) {
      expect(() => loadConfig({ ...base, SCIMCAST_API_PROCESSES: v }), v).toThrow(/SCIMCAST_API_PROCESSES/);
    }
  });
});
