import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../../src/scim/filter/index.js';
import { compileFilter } from '../../../src/storage/filter-sql.js';
import { escapeLike, likePattern } from '../../../src/storage/substring-index.js';

/**
 * Where the compiler adds the trigram-index prefilter on emails (substring-index.ts), rendered
 * without a database. test/integration/filter-index.test.ts proves against PostgreSQL that the
 * index is used and that results are the same with and without it.
 */

const dialect = new PgDialect();
const render = (filter: string, types: Array<'User' | 'Group'> = ['User'], prefilter = true) =>
  dialect.sqlToQuery(compileFilter(types, parseFilter(filter), { prefilter }));
const PREFILTER = /scim_email_values\("resources"\."doc"\) like lower\(\$\d+::text\) escape '\\'/g;
const prefilters = (filter: string, types?: Array<'User' | 'Group'>) => render(filter, types).sql.match(PREFILTER)?.length ?? 0;

describe('LIKE patterns', () => {
  it('escape %, _ and \\ so they match literally', () => {
    expect(escapeLike('50%_\\x')).toBe('50\\%\\_\\\\x');
    expect(likePattern('co', 'a%')).toBe('%a\\%%');
    expect(likePattern('sw', 'a_')).toBe('a\\_%');
    expect(likePattern('ew', '\\')).toBe('%\\\\');
  });
});

describe('emails substring filters get an index prefilter beside the exact predicate', () => {
  it("the bench's value path: the EXISTS stays, the prefilter is ANDed outside it", () => {
    const q = render('emails[type eq "work" and value co "seed-42@"]');
    expect(q.sql).toMatch(/\(exists \(select 1 from jsonb_array_elements\(.*\) as e\(v\) where .*\) and \(scim_email_values\("resources"\."doc"\) like lower\(\$\d+::text\) escape '\\'\)\)/);
    expect(q.params).toContain('%seed-42@%');
    // The exact predicate is unchanged: the element's type and value, case-folded.
    expect(q.params).toContain('work');
    expect(q.sql).toContain('lower((e.v ->> $');
  });

  it('sw and ew anchor on the newline that separates values, with the value escaped', () => {
    expect(render('emails.value sw "a_b%"').params).toContain('%\na\\_b\\%%');
    expect(render('emails.value ew "\\\\x"').params).toContain('%\\\\x\n%');
    expect(render('emails co "abc"').params).toContain('%abc%');
  });

  it.each([
    ['emails.value co "xyz"', 1],
    ['emails co "xyz"', 1],
    ['emails[value sw "x"]', 1],
    ['emails[value co "abc" and value ew "bc"]', 2],
    ['emails[value co "abc" or value sw "b"]', 2],
    ['emails[value co "abc" or value co "ab"]', 0],
    ['emails.value co "abc" or userName co "b"', 1],
    ['not (not (emails.value co "xyz"))', 1],
    ['EMAILS[VALUE CO "xyz"]', 1],
    ['emails.value sw "a"', 1],
    ['emails.value ew "ab"', 1],
    ['emails.value co "abc"', 1],
    ['emails.value co "😀é\u0301"', 1],
  ])('%s: %i prefilter(s)', (filter, n) => {
    expect(prefilters(filter)).toBe(n);
  });

  it.each([
    // Under `not` the prefilter could not narrow anything.
    'not (emails.value co "xyz")',
    'not (emails[type eq "work" and value co "xyz"])',
    // Inside a value path under `or`, a branch without one could match on its own.
    'emails[value co "abc" or type eq "work"]',
    'emails[not (value co "abc")]',
    // Other operators and sub-attributes are not what the index covers.
    'emails.value eq "x"',
    'emails.value gt "x"',
    'emails.type co "work"',
    'emails[type co "work"]',
    'emails.display co "xyz"',
    // Patterns pg_trgm draws no trigram from: the index could not narrow them.
    'emails.value co ""',
    'emails.value co "ab"',
    'emails.value ew "a"',
    'emails.value sw ""',
    // Other multi-valued attributes have no values index.
    'phoneNumbers.value co "555"',
    'userName co "xyz"',
  ])('%s: no prefilter', (filter) => {
    expect(prefilters(filter)).toBe(0);
  });

  it('a root search adds it to the User branch only (Groups have no emails)', () => {
    const q = render('emails.value co "xyz"', ['User', 'Group']);
    expect(q.sql.match(PREFILTER)?.length).toBe(1);
    expect(q.sql).toMatch(/\("resources"\."resource_type" = \$\d+ and false\)/);
  });

  it('{ prefilter: false } leaves only the exact predicate', () => {
    expect(render('emails[type eq "work" and value co "xyz"]', ['User'], false).sql).not.toContain('scim_email_values');
  });
});

describe('column substring filters are already what their trigram index covers', () => {
  it.each([
    ['userName co "Ab"', 'lower("resources"."user_name") like lower($2::text)'],
    ['displayName sw "Ab"', 'lower("resources"."display_name") like lower($2::text)'],
    ['externalId ew "Ab"', '"resources"."external_id" like $2::text'],
  ])('%s compares %s', (filter, expr) => {
    expect(render(filter).sql).toContain(expr);
  });
});
