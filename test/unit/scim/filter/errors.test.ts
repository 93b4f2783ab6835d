import { describe, expect, it } from 'vitest';
import { parseFilter, type FilterLimits } from '../../../../src/scim/filter/index.js';
import { errorOf } from '../../../helpers/errors.js';


const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** `error` matches the detail: what was expected and where (0-based character position). */
const INVALID: { filter: string; error: RegExp }[] = [
  { filter: '', error: /^Invalid filter: filter is empty$/ },
  { filter: '  \t ', error: /filter is empty/ },
  // operators and values
  { filter: 'userName xx "a"', error: /^Invalid filter at position 9: expected a comparison operator .*after "userName" but found "xx"$/ },
  { filter: 'userName', error: /position 8: expected a comparison operator .* but found end of input/ },
  { filter: 'userName "bjensen"', error: /position 9: expected a comparison operator .* but found string "bjensen"/ },
  { filter: 'userName eq', error: /position 11: expected a value \(a string, number, true, false or null\) after "eq" but found end of input/ },
  { filter: 'userName eq bjensen', error: /position 12: expected a value .*; strings must be in double quotes/ },
  { filter: 'a eq (b pr)', error: /position 5: expected a value .* found '\('/ },
  { filter: 'a eq b.c', error: /position 5: expected a value/ },
  { filter: 'title pr "x"', error: /position 9: "pr" takes no value but found string "x"/ },
  { filter: 'title pr true', error: /position 9: "pr" takes no value/ },
  { filter: 'title pr 5', error: /position 9: "pr" takes no value/ },
  { filter: 'a eq 01', error: /position 5: expected a value/ },
  { filter: 'a eq +1', error: /position 5: expected a value/ },
  { filter: 'a eq .5', error: /position 5: expected a value/ },
  { filter: 'a eq 1.', error: /position 5: expected a value/ },
  { filter: 'a eq 1e999', error: /position 5: number 1e999 is out of range/ },
  { filter: 'a gt true', error: /position 5: "gt" needs a string or number value, not true/ },
  { filter: 'a co null', error: /"co" needs a string or number value, not null/ },
  { filter: 'a le false', error: /"le" needs a string or number value, not false/ },
  // logical structure
  { filter: 'a eq 1 b eq 2', error: /position 7: expected "and", "or" or end of input but found "b"/ },
  { filter: 'a eq 1 and', error: /position 10: expected an attribute expression, '\(' or 'not \(' but found end of input/ },
  { filter: 'a eq 1 or or b pr', error: /after "or" but found "b"/ },
  { filter: '()', error: /position 1: expected an attribute expression, '\(' or 'not \(' but found '\)'/ },
  { filter: 'not userName eq "x"', error: /position 4: expected '\(' after "not" but found "userName"/ },
  { filter: 'not', error: /position 3: expected '\(' after "not" but found end of input/ },
  { filter: 'a pr and not b pr', error: /position 13: expected '\(' after "not"/ },
  // brackets and parentheses
  { filter: '(a eq 1', error: /position 7: expected '\)' to close the '\(' at position 0 but found end of input/ },
  { filter: 'not (a pr', error: /expected '\)' to close the '\(' at position 4 but found end of input/ },
  { filter: 'a eq 1)', error: /position 6: unexpected '\)' without a matching opening bracket/ },
  { filter: 'a eq 1]', error: /position 6: unexpected '\]' without a matching opening bracket/ },
  { filter: '(a eq 1]', error: /position 7: expected '\)' to close the '\(' at position 0 but found '\]'/ },
  { filter: 'emails[type eq "work"', error: /position 21: expected '\]' to close the '\[' at position 6 but found end of input/ },
  { filter: 'emails[type eq "work")', error: /position 21: expected '\]' to close the '\[' at position 6 but found '\)'/ },
  { filter: 'emails[(type eq "work"]', error: /expected '\)' to close the '\(' at position 7 but found '\]'/ },
  { filter: 'emails[type eq "work" x', error: /expected "and", "or", '\]' but found "x"/ },
  { filter: 'emails[type[value eq "x"]]', error: /position 11: value paths cannot be nested/ },
  { filter: 'emails[type eq "work" and ims[value pr]]', error: /position 29: value paths cannot be nested/ },
  { filter: 'emails[type eq "work"].value eq "x"', error: /position 22: a sub-attribute after '\]' is only allowed in a PATCH path/ },
  { filter: 'name.givenName[value pr]', error: /position 0: a value filter .* not to the sub-attribute "name.givenName"/ },
  { filter: '"x" eq "y"', error: /position 0: expected an attribute expression.* but found string "x"/ },
  // strings
  { filter: 'a eq "unterminated', error: /position 5: unterminated string/ },
  { filter: String.raw`a eq "bad \x"`, error: /position 10: invalid escape "\\x" in string/ },
  { filter: String.raw`a eq "\u12"`, error: /position 6: invalid \\u escape: expected four hex digits/ },
  { filter: String.raw`a eq "\uD800"`, error: /position 5: string contains an unpaired UTF-16 surrogate/ },
  { filter: String.raw`a eq "\uDC00"`, error: /unpaired UTF-16 surrogate/ },
  { filter: String.raw`a eq "\uD800\u0041"`, error: /unpaired UTF-16 surrogate/ },
  { filter: String.raw`a ew "\u0000"`, error: /position 5: string contains U\+0000/ },
  { filter: 'a eq "x\ny"', error: /position 7: control characters in a string must be escaped/ },
  // attribute paths
  { filter: '1abc eq "x"', error: /position 0: "1abc" is not a valid attribute name/ },
  { filter: 'a_b.c-d pr and _x pr', error: /position 15: "_x" is not a valid attribute name/ },
  { filter: 'a.b.c pr', error: /"a.b.c" has more than one sub-attribute/ },
  { filter: 'a. pr', error: /position 2: expected an attribute name/ },
  { filter: 'name.given$ pr', error: /"given\$" is not a valid attribute name/ },
  { filter: `${ENTERPRISE} pr`, error: /position 0: expected an attribute name after the schema URI/ },
  { filter: 'urn:ietf:params:scim:schemas:core:2.0:User: pr', error: /position 43: expected an attribute name after the schema URI/ },
  { filter: 'a:b pr', error: /"a" is not a valid schema URI/ },
];

describe('parseFilter: invalid filters are 400 invalidFilter with position and expectation', () => {
  it.each(INVALID)('$filter', ({ filter, error }) => {
    const e = errorOf(() => parseFilter(filter));
    expect(e.status).toBe(400);
    expect(e.scimType).toBe('invalidFilter');
    expect(e.detail).toMatch(error);
  });
});

describe('parseFilter: error details stay short', () => {
  it.each([`${'x'.repeat(3000)}! pr`, `a eq ${'9'.repeat(400)}e999`, `a eq ${'y'.repeat(3000)}`, `a.${'b'.repeat(3000)}.c pr`])(
    'clips echoed client text (%#)',
    (filter) => {
      const e = errorOf(() => parseFilter(filter));
      expect(e.scimType).toBe('invalidFilter');
      expect(e.detail.length).toBeLessThan(200);
    },
  );
});

describe('parseFilter: limits on hostile input', () => {
  const orChain = (n: number) => Array.from({ length: n }, (_, i) => `a${i} pr`).join(' or ');
  const nested = (n: number) => `${'('.repeat(n)}a pr${')'.repeat(n)}`;

  const cases: { name: string; filter: string; limits?: FilterLimits; error: RegExp }[] = [
    { name: 'over 4096 characters', filter: `a eq "${'x'.repeat(4090)}"`, error: /^Invalid filter: filter exceeds 4096 characters$/ },
    { name: 'over 200 terms', filter: orChain(201), error: /filter exceeds 200 terms/ },
    { name: 'terms inside value paths count', filter: `emails[${orChain(201)}]`, error: /filter exceeds 200 terms/ },
    { name: 'over 32 levels of parentheses', filter: nested(33), error: /position 32: filter exceeds 32 levels of nesting/ },
    { name: 'over 32 levels mixing not and [', filter: `${'not ('.repeat(32)}emails[value pr]${')'.repeat(32)}`, error: /filter exceeds 32 levels of nesting/ },
    { name: 'custom maxLength', filter: 'userName eq "bjensen"', limits: { maxLength: 10 }, error: /filter exceeds 10 characters/ },
    { name: 'custom maxNodes', filter: 'a pr and b pr and c pr', limits: { maxNodes: 2 }, error: /position 18: filter exceeds 2 terms/ },
    { name: 'custom maxDepth', filter: '(a pr and (b pr))', limits: { maxDepth: 1 }, error: /position 10: filter exceeds 1 levels of nesting/ },
    { name: '10,000 nested parentheses (length bound)', filter: nested(10_000), error: /filter exceeds 4096 characters/ },
    { name: '10,000 nested parentheses (depth bound)', filter: nested(10_000), limits: { maxLength: 1_000_000 }, error: /filter exceeds 32 levels of nesting/ },
    { name: '10,000 unclosed parentheses', filter: '('.repeat(10_000), limits: { maxLength: 1_000_000, maxDepth: 1_000_000 }, error: /expected an attribute expression.* found end of input/ },
  ];

  it.each(cases)('$name → 400 invalidFilter', ({ filter, limits, error }) => {
    const e = errorOf(() => parseFilter(filter, limits));
    expect(e.status).toBe(400);
    expect(e.scimType).toBe('invalidFilter');
    expect(e.detail).toMatch(error);
  });

  it('accepts filters exactly at each bound', () => {
    expect(() => parseFilter(`a eq "${'x'.repeat(4096 - 7)}"`)).not.toThrow();
    expect(() => parseFilter(orChain(200))).not.toThrow();
    expect(parseFilter(nested(32))).toEqual({ kind: 'present', path: { attr: 'a' } });
  });

  it('parses 10,000 nested parentheses without exhausting the stack when the caller lifts the bounds', () => {
    const limits = { maxLength: 1_000_000, maxDepth: 1_000_000 };
    expect(parseFilter(nested(10_000), limits)).toEqual({ kind: 'present', path: { attr: 'a' } });
    const negations = parseFilter(`${'not ('.repeat(10_000)}a pr${')'.repeat(10_000)}`, limits);
    expect(negations.kind).toBe('not');
  });
});
