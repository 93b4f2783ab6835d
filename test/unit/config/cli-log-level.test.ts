import { describe, expect, it } from 'vitest';
import { cliLogLevel, logs } from '../../../src/config/cli-log-level.js';

describe('the CLI log threshold', () => {
  it('is LOG_LEVEL, info by default or when LOG_LEVEL is not a level', () => {
    expect(cliLogLevel({})).toBe('info');
    expect(cliLogLevel({ LOG_LEVEL: 'warn' })).toBe('warn');
    expect(cliLogLevel({ LOG_LEVEL: 'loud' })).toBe('info');
  });

  it('writes a line at or above the threshold, nothing when silent', () => {
    expect(logs('info', 'info')).toBe(true);
    expect(logs('info', 'warn')).toBe(true);
    expect(logs('warn', 'info')).toBe(false);
    expect(logs('silent', 'fatal')).toBe(false);
  });
});
