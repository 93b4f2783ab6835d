import { describe, expect, it } from 'vitest';
import { redactSqlValues } from '../../../src/core/sql-values.js';

describe('a failed statement in a log line', () => {
  it('keeps the statement and drops every bound value, in the message and in an indented stack', () => {
    const line =
      "Failed task 7 (apply_async_request, 5ms, attempt 1 of 25) with error 'Failed query: insert into resources values ($1, $2)\nparams: 42,{\"userName\":\"bjensen\",\"password\":\"scrypt$16384$x\"}':\n" +
      '  DrizzleQueryError: Failed query: insert into resources values ($1, $2)\nparams: 42,{"userName":"bjensen"}\n      at run (file.js:1:1)';
    const out = redactSqlValues(line);
    expect(out).toContain('insert into resources values ($1, $2)');
    expect(out).not.toContain('bjensen');
    expect(out).not.toContain('scrypt$');
    expect(out).toContain('at run (file.js:1:1)');
  });

  it('leaves text without values alone and stays fast on long input', () => {
    expect(redactSqlValues('connection refused')).toBe('connection refused');
    const long = `x\nparams: ${'a'.repeat(2_000_000)}`;
    const t0 = performance.now();
    expect(redactSqlValues(long)).toBe('x\nparams: [redacted]');
    expect(performance.now() - t0).toBeLessThan(2_000);
  });
});
