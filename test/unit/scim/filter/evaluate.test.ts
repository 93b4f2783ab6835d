import { describe, expect, it } from 'vitest';
import { matchesFilter } from '../../../../src/scim/filter/evaluate.js';
import { parseFilter } from '../../../../src/scim/filter/index.js';
import type { ResourceTypeName } from '../../../../src/scim/schemas/index.js';
import { CORE_USER, ENTERPRISE, RFC_ROWS } from './fixtures.js';

const ID = '2819c223-7f76-453a-919d-413861904646';
const MANAGER = '26118915-6090-4610-87e4-49d8ca9f808d';

/** A stored-and-represented User close to RFC 7643 §8.2 / §8.3, with a few deliberately empty values. */
const USER: Record<string, unknown> = {
  schemas: [CORE_USER, ENTERPRISE],
  id: ID,
  externalId: 'BJensen',
  userName: 'bjensen',
  name: { familyName: "O'Malley", givenName: 'Barbara' },
  displayName: '',
  title: 'Tour Guide',
  userType: 'Employee',
  active: true,
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  phoneNumbers: [],
  ims: [{ value: 'someaimhandle', type: 'aim' }],
  meta: { resourceType: 'User', created: '2010-01-23T04:56:22Z', lastModified: '2011-05-13T04:42:34Z' },
  [ENTERPRISE]: { employeeNumber: '701984', manager: { value: MANAGER } },
};

/** RFC 7644 §3.4.2.2 Figure 2, in file order, evaluated against USER. */
const FIGURE_2_EXPECTED = [
  true, // userName eq "bjensen"
  true, // name.familyName co "O'Malley"
  false, // userName sw "J"
  false, // urn:…:User:userName sw "J"
  true, // title pr
  false, // meta.lastModified gt (equal instant)
  true, // meta.lastModified ge
  false, // meta.lastModified lt
  true, // meta.lastModified le
  true, // title pr and userType eq "Employee"
  true, // title pr or userType eq "Intern"
  true, // schemas eq "…enterprise:2.0:User"
  true, // userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")
  false, // userType ne "Employee" and not (…)
  true, // userType eq "Employee" and (emails.type eq "work")
  true, // userType eq "Employee" and emails[type eq "work" and value co "@example.com"]
  true, // emails[…] or ims[…]
];

describe('matchesFilter on a whole resource: RFC 7644 §3.4.2.2 Figure 2', () => {
  it.each(RFC_ROWS().map((row, i) => ({ ...row, expected: FIGURE_2_EXPECTED[i] })))('$filter → $expected', ({ filter, expected }) => {
    expect(matchesFilter(parseFilter(filter), USER, { type: 'User' })).toBe(expected);
  });
});

const RESOURCE_ROWS: { filter: string; expected: boolean }[] = [
  // attribute names and (non-caseExact) string values are case-insensitive (RFC 7643 §2.1, §2.2)
  { filter: 'USERNAME eq "BJENSEN"', expected: true },
  { filter: 'name.GivenName sw "bar"', expected: true },
  { filter: 'emails.type eq "WORK"', expected: true },
  { filter: 'emails.value ew ".ORG"', expected: true },
  { filter: `schemas eq "${ENTERPRISE.toUpperCase()}"`, expected: true },
  // caseExact attributes (RFC 7643 §3.1 id and externalId) compare exactly
  { filter: 'externalId eq "bjensen"', expected: false },
  { filter: 'externalId eq "BJensen"', expected: true },
  { filter: `id eq "${ID.toUpperCase()}"`, expected: false },
  { filter: `id eq "${ID}"`, expected: true },
  // ordering on strings is lexicographic, after case folding
  { filter: 'name.givenName lt "C"', expected: true },
  { filter: 'name.givenName ge "barbara"', expected: true },
  { filter: 'name.givenName gt "barbara"', expected: false },
  // dateTime compares instants, not text
  { filter: 'meta.lastModified eq "2011-05-13T06:42:34+02:00"', expected: true },
  { filter: 'meta.lastModified gt "2011-05-13T04:42:33.999Z"', expected: true },
  { filter: 'meta.created lt "2011-05-13T04:42:34Z"', expected: true },
  { filter: 'meta.created lt "not a date"', expected: false },
  // booleans: equal or not, never ordered; a non-boolean operand never matches
  { filter: 'active eq true', expected: true },
  { filter: 'active eq false', expected: false },
  { filter: 'active ne false', expected: true },
  { filter: 'active gt 1', expected: false },
  { filter: 'active eq "true"', expected: false },
  { filter: 'userName eq 1', expected: false },
  // extension attributes by URN-qualified path
  { filter: `${ENTERPRISE}:employeeNumber eq "701984"`, expected: true },
  { filter: `${ENTERPRISE}:manager.value sw "2611"`, expected: true },
  { filter: `${ENTERPRISE}:manager eq "${MANAGER}"`, expected: true },
  { filter: `${ENTERPRISE}:department pr`, expected: false },
  { filter: `${CORE_USER}:title eq "tour guide"`, expected: true },
  // pr: absent, null, "" and [] are not present
  { filter: 'nickName pr', expected: false },
  { filter: 'displayName pr', expected: false },
  { filter: 'phoneNumbers pr', expected: false },
  { filter: 'emails pr', expected: true },
  { filter: 'name pr', expected: true },
  // absent attributes: ne matches (nothing is identical), eq null means "absent"
  { filter: 'nickName ne "x"', expected: true },
  { filter: 'nickName eq "x"', expected: false },
  { filter: 'nickName eq null', expected: true },
  { filter: 'title eq null', expected: false },
  { filter: 'title ne null', expected: true },
  // multi-valued: any value matching is enough
  { filter: 'emails.type eq "home"', expected: true },
  { filter: 'emails.type ne "work"', expected: true },
  { filter: 'emails[type eq "home" and primary eq true]', expected: false },
  { filter: 'emails[type eq "work" and primary eq true]', expected: true },
  { filter: 'ims[type eq "aim"]', expected: true },
  { filter: 'not (emails[type eq "other"])', expected: true },
  // unknown attributes never match, whatever the operator; not() still inverts
  { filter: 'shoeSize eq 44', expected: false },
  { filter: 'shoeSize ne 44', expected: false },
  { filter: 'shoeSize pr', expected: false },
  { filter: 'not (shoeSize eq 44)', expected: true },
  { filter: 'name.nick pr', expected: false },
  { filter: 'urn:example:other:1.0:User:userName pr', expected: false },
  { filter: 'title[value pr]', expected: false },
];

describe('matchesFilter on a whole resource: types, case, presence', () => {
  it.each(RESOURCE_ROWS)('$filter → $expected', ({ filter, expected }) => {
    expect(matchesFilter(parseFilter(filter), USER, { type: 'User' })).toBe(expected);
  });
});

const WORK_EMAIL = { value: 'Jo@Example.com', type: 'work', primary: true };
const MEMBER = { value: 'abc-ID', display: 'Babs Jensen', type: 'User', $ref: 'https://example.com/v2/Users/abc-ID' };

/** One value of a multi-valued attribute, paths relative to `parent` (PATCH value filters, RFC 7644 §3.5.2). */
const ELEMENT_ROWS: { name: string; type: ResourceTypeName; parent: string; value: Record<string, unknown>; filter: string; expected: boolean }[] = [
  { name: 'eq on a canonical value', type: 'User', parent: 'emails', value: WORK_EMAIL, filter: 'type eq "work"', expected: true },
  { name: 'string value case-insensitive', type: 'User', parent: 'emails', value: WORK_EMAIL, filter: 'type eq "Work"', expected: true },
  { name: 'attribute name case-insensitive', type: 'User', parent: 'Emails', value: WORK_EMAIL, filter: 'TYPE EQ "work"', expected: true },
  { name: 'ew', type: 'User', parent: 'emails', value: WORK_EMAIL, filter: 'value ew "example.COM"', expected: true },
  { name: 'boolean', type: 'User', parent: 'emails', value: WORK_EMAIL, filter: 'primary eq true', expected: true },
  { name: 'boolean vs string operand', type: 'User', parent: 'emails', value: WORK_EMAIL, filter: 'primary eq "true"', expected: false },
  { name: 'uncoerced "True" (Entra) is true', type: 'User', parent: 'emails', value: { value: 'a@x', primary: 'True' }, filter: 'primary eq true', expected: true },
  { name: 'and / or / not', type: 'User', parent: 'emails', value: WORK_EMAIL, filter: 'type pr and (primary eq false or value sw "jo") and not (type eq "home")', expected: true },
  { name: 'absent sub-attribute', type: 'User', parent: 'emails', value: WORK_EMAIL, filter: 'display pr', expected: false },
  { name: 'unknown sub-attribute', type: 'User', parent: 'emails', value: WORK_EMAIL, filter: 'label eq "x"', expected: false },
  { name: 'a full path is not relative', type: 'User', parent: 'emails', value: WORK_EMAIL, filter: 'emails.type eq "work"', expected: false },
  { name: 'a URN path is not relative', type: 'User', parent: 'emails', value: WORK_EMAIL, filter: `${CORE_USER}:type eq "work"`, expected: false },
  { name: 'nested value path never matches', type: 'User', parent: 'emails', value: WORK_EMAIL, filter: 'type[value pr]', expected: false },
  { name: 'unknown parent', type: 'User', parent: 'shoes', value: WORK_EMAIL, filter: 'type eq "work"', expected: false },
  { name: 'addresses', type: 'User', parent: 'addresses', value: { type: 'work', locality: 'Hollywood' }, filter: 'type eq "work" and locality eq "hollywood"', expected: true },
  { name: 'members value (not caseExact in RFC 7643 §4.2)', type: 'Group', parent: 'members', value: MEMBER, filter: 'value eq "ABC-id"', expected: true },
  { name: 'members $ref is caseExact (reference)', type: 'Group', parent: 'members', value: MEMBER, filter: '$ref eq "https://example.com/v2/Users/ABC-ID"', expected: false },
  { name: 'members type', type: 'Group', parent: 'members', value: MEMBER, filter: 'type eq "user" and display co "JENSEN"', expected: true },
  { name: 'members or of ids', type: 'Group', parent: 'members', value: MEMBER, filter: 'value eq "x" or value eq "abc-ID"', expected: true },
];

describe('matchesFilter on one value of a multi-valued attribute (opts.parent)', () => {
  it.each(ELEMENT_ROWS)('$name: $filter → $expected', ({ type, parent, value, filter, expected }) => {
    expect(matchesFilter(parseFilter(filter), value, { type, parent })).toBe(expected);
  });
});
