import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../../src/scim/filter/index.js';
import { compileFilter } from '../../../src/storage/filter-sql.js';
import { compileSortKey, keysetAfter } from '../../../src/storage/sort-sql.js';

/**
 * The SQL the filter and sort compilers emit, rendered without a database: client values are
 * always bound parameters, names come from the schema registry, and case rules show in the SQL.
 * Behaviour against PostgreSQL is covered by test/integration/filter.test.ts.
 */

const dialect = new PgDialect();
const render = (filter: string, types: Array<'User' | 'Group'> = ['User']) => dialect.sqlToQuery(compileFilter(types, parseFilter(filter)));

describe('filter SQL is parameterised', () => {
  it.each([
    [`userName eq "x' or 1=1 --"`, `x' or 1=1 --`],
    [`title co "'); drop table resources; --"`, `%'); drop table resources; --%`],
    [`emails[type eq "work\\"]" and value sw "a'b"]`, `a'b%`],
  ])('%s: the value is a parameter, never SQL text', (filter, param) => {
    const q = render(filter);
    expect(q.params).toContain(param);
    expect(q.sql).not.toContain(param);
    expect(q.sql).not.toMatch(/drop table|1=1/);
  });

  it('co/sw/ew escape %, _ and \\ so they match literally', () => {
    expect(render('title co "50%_\\\\"').params).toContain('%50\\%\\_\\\\%');
    expect(render('title sw "a_"').params).toContain('a\\_%');
    expect(render('title ew "%"').params).toContain('%\\%');
  });

  it('attribute names are the canonical registry names, whatever the client wrote', () => {
    const q = render('EMAILS.VALUE eq "x" and NAME.FAMILYNAME eq "y"');
    expect(q.params).toEqual(expect.arrayContaining(['emails', 'value', 'name', 'familyName']));
    expect(q.params).not.toContain('EMAILS');
  });
});

describe('filter SQL follows caseExact and uses the columns', () => {
  it('userName (caseExact=false) compares lower() of both sides on the indexed column', () => {
    expect(render('userName eq "X"').sql).toContain('lower("resources"."user_name") = lower($2::text)');
  });

  it('externalId (caseExact=true) compares as is', () => {
    expect(render('externalId eq "X"').sql).toContain('"resources"."external_id" = $2::text');
  });

  it('meta.created compares as timestamptz', () => {
    expect(render('meta.created gt "2026-01-01T00:00:00Z"').sql).toContain('"resources"."created" > $2::timestamptz');
  });

  it('group members are an EXISTS over group_members', () => {
    expect(render('members[value eq "a"]', ['Group']).sql).toMatch(/exists \(select 1 from group_members gm join resources mr on mr\.id = gm\.member_id where gm\.group_id = "resources"\."id" and/);
  });

  it('a root search restricts each type to its own condition', () => {
    const q = render('userName eq "a"', ['User', 'Group']);
    expect(q.sql).toMatch(/\("resources"\."resource_type" = \$1 and .*\) or \("resources"\."resource_type" = \$\d+ and false\)/);
  });
});

describe('sort keys', () => {
  it('a multi-valued attribute sorts by the primary value, else the first (RFC 7644 §3.4.2.3)', () => {
    const q = dialect.sqlToQuery(compileSortKey(['User'], 'emails').expr);
    expect(q.sql).toContain("order by coalesce(e.v -> 'primary' = 'true'::jsonb, false) desc, e.n limit 1");
    expect(q.sql).toMatch(/^\(lower\(.*\)\) collate "C"$/);
  });

  it('the keyset condition treats NULL as greater than any value', () => {
    const key = compileSortKey(['User'], 'title');
    const asc = dialect.sqlToQuery(keysetAfter(key, 'asc', { key: 'm', id: '00000000-0000-0000-0000-000000000001' }));
    expect(asc.sql).toMatch(/is null or .* > \$\d+::text/);
    const fromNull = dialect.sqlToQuery(keysetAfter(key, 'desc', { key: null, id: '00000000-0000-0000-0000-000000000001' }));
    expect(fromNull.sql).toMatch(/is not null or \(.* is null and "resources"\."id" < \$\d+::uuid\)/);
  });
});
