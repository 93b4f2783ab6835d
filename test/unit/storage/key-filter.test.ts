import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../../src/scim/filter/index.js';
import { keyFilterOf } from '../../../src/storage/key-filter.js';

/**
 * Which filters count as key lookups (at most one row per term, so a window count is free) and
 * the SQL they become. Everything else must stay on the general statement.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ID = '2819c223-7f76-453a-919d-413861904646';

describe('key lookups', () => {
  it('userName eq, in any case of the name, with or without the schema URN: lower() of both sides, the value a parameter', () => {
    for (const f of ['userName eq "BJensen"', 'USERNAME eq "BJensen"', `${USER}:userName eq "BJensen"`]) {
      expect(keyFilterOf('User', parseFilter(f)), f).toEqual({ condition: 'lower(r.user_name) = lower($1::text)', values: ['BJensen'] });
    }
  });

  it('id eq on either type; a value that is not an issued id (another case, another form) is a NULL that matches nothing', () => {
    expect(keyFilterOf('Group', parseFilter(`id eq "${ID}"`))).toEqual({ condition: 'r.id = $1::uuid', values: [ID] });
    expect(keyFilterOf('User', parseFilter(`id eq "${ID.toUpperCase()}"`))?.values).toEqual([null]);
    expect(keyFilterOf('User', parseFilter('id eq "x\'; drop table resources"'))?.values).toEqual([null]);
  });

  it('and / or of key terms, numbered in order', () => {
    expect(keyFilterOf('User', parseFilter(`userName eq "a" or (id eq "${ID}" and userName eq "b")`))).toEqual({
      condition: '(lower(r.user_name) = lower($1::text) or (r.id = $2::uuid and lower(r.user_name) = lower($3::text)))',
      values: ['a', ID, 'b'],
    });
  });

  it('anything else is not one: other attributes and operators, not, null, non-strings, userName on Groups', () => {
    for (const [type, f] of [
      ['User', 'externalId eq "x"'],
      ['User', 'userName ne "x"'],
      ['User', 'userName sw "x"'],
      ['User', 'not (userName eq "x")'],
      ['User', 'userName eq null'],
      ['User', 'userName eq 5'],
      ['User', 'userName eq "a" or active eq true'],
      ['User', 'emails[value eq "x"]'],
      ['User', 'name.userName eq "x"'],
      ['User', 'urn:ietf:params:scim:schemas:core:2.0:Group:id eq "x"'],
      ['Group', 'userName eq "x"'],
    ] as const) {
      expect(keyFilterOf(type, parseFilter(f)), `${type}: ${f}`).toBeUndefined();
    }
  });
});
