import { describe, expect, it } from 'vitest';
import { parseFilter, stringifyFilter } from '../../../../src/scim/filter/index.js';
import { and, cmp, not, or, pr, RFC_ROWS, VALID_ROWS, vp } from './fixtures.js';

describe('stringifyFilter', () => {
  it.each([...RFC_ROWS(), ...VALID_ROWS])('round-trips $filter', ({ filter }) => {
    const ast = parseFilter(filter);
    expect(parseFilter(stringifyFilter(ast))).toEqual(ast);
  });

  it.each([
    ['userName Eq "john"', 'userName eq "john"'],
    ['title PR AND NOT(x eq TRUE)', 'title pr and not (x eq true)'],
    ['((a pr))  or   b eq -1.50', 'a pr or b eq -1.5'],
    ['(a pr or b pr) and c pr', '(a pr or b pr) and c pr'],
    ['a pr or b pr and c pr', 'a pr or b pr and c pr'],
    [String.raw`a eq "\u0041\/\"\\\n"`, String.raw`a eq "A/\"\\\n"`],
    ['urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "B"', 'urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "B"'],
    ['emails[type eq "work" and (value ew "@a.com" or value ew "@b.com")]', 'emails[type eq "work" and (value ew "@a.com" or value ew "@b.com")]'],
  ])('prints %s canonically as %s', (input, expected) => {
    expect(stringifyFilter(parseFilter(input))).toBe(expected);
  });

  it('keeps the shape of hand-built ASTs that nest same-kind nodes', () => {
    expect(stringifyFilter(and(and(pr('a'), pr('b')), pr('c')))).toBe('(a pr and b pr) and c pr');
    expect(stringifyFilter(or(or(pr('a'), pr('b')), not(pr('c'))))).toBe('(a pr or b pr) or not (c pr)');
    expect(stringifyFilter(vp('emails', cmp('value', 'eq', null)))).toBe('emails[value eq null]');
  });
});
