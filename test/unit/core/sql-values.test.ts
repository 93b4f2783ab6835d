import { describe, expect, it } from 'vitest';
import { errorLine, redactSqlValues } from '../../../src/core/sql-values.js';

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

describe('errorLine: one short line for a failed statement', () => {
  it("keeps the statement's start and PostgreSQL's code and message, never the values or the detail", () => {
    const cause = Object.assign(new Error('insert or update on table "events" violates foreign key constraint "events_feed_id_feeds_id_fk"'), {
      code: '23503',
      detail: 'Key (feed_id)=(secret-feed) is not present in table "feeds".',
    });
    const e = new Error(`Failed query: insert into "events" values ${'($1, $2), '.repeat(20_000)}\nparams: eyJhbGciOi.secret-jws`, { cause });
    const line = errorLine(e);
    expect(line.length).toBeLessThan(400);
    expect(line).toContain('Failed query: insert into "events"');
    expect(line).toContain('23503 insert or update on table "events" violates foreign key constraint');
    expect(line).not.toContain('secret');
  });

  it('passes other errors through, values redacted', () => {
    expect(errorLine(new Error('connection refused'))).toBe('connection refused');
    expect(errorLine('x\nparams: 1,2')).toBe('x\nparams: [redacted]');
  });
});
