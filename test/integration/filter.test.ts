import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * The filter grammar end to end against PostgreSQL (RFC 7644 §3.4.2.2): a fixed population of
 * users and groups, then tables of `{ filter, expected }`. Every filter is compiled to SQL, so
 * each row checks the operator, the case rule of the attribute (caseExact) and where the
 * attribute lives (column, JSON document, extension, group_members).
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

let t: TestApp;
const ids: Record<string, string> = {};
const created: Record<string, string> = {};

const user = (userName: string, extra: Record<string, unknown> = {}) => ({ schemas: [USER, ENT], userName, ...extra });

/** Eight users; comments note what each one is there to exercise. */
const USERS = [
  user('bjensen', {
    externalId: 'EXT-bj',
    name: { givenName: 'Barbara', familyName: 'Jensen', formatted: 'Ms. Barbara J Jensen III' },
    displayName: 'Babs Jensen',
    nickName: 'Babs',
    title: 'Tour Guide',
    active: true,
    emails: [
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ],
    [ENT]: { employeeNumber: '701984', department: 'Tour Operations', manager: { value: 'mgr-1' } },
  }),
  // Upper-case userName and email: caseExact=false comparisons.
  user('JSmith', {
    externalId: 'ext-js',
    name: { givenName: 'John', familyName: 'Smith' },
    title: 'Manager',
    active: false,
    emails: [{ value: 'John.Smith@Example.COM', type: 'work' }],
    [ENT]: { employeeNumber: '100', department: 'Sales' },
  }),
  // Two emails of different types: same-element semantics of value paths.
  user('alice', {
    name: { givenName: 'Alice', familyName: 'Adams' },
    nickName: 'Al',
    active: true,
    emails: [
      { value: 'alice@example.org', type: 'home', primary: true },
      { value: 'alice@work.example.com', type: 'work' },
    ],
    [ENT]: { employeeNumber: '200', department: 'Engineering', manager: { value: 'mgr-1' } },
  }),
  // `_` and `%` must match literally in co/sw/ew.
  user('bob_x', { title: '100% remote', active: true }),
  user('bobax', { title: '1000 remote' }),
  // A backslash in a value; no emails, no name, no active.
  user('carol', { displayName: 'Carol', title: 'Engineer\\Lead' }),
  // An empty nickName is not "present".
  user('dave', { nickName: '', userType: 'Contractor', active: true, emails: [{ value: 'dave@example.com', type: 'other' }] }),
  // externalId differing from bjensen's only by case: caseExact=true comparisons.
  user('Eve.Upper', { externalId: 'EXT-BJ', active: false, emails: [{ value: 'EVE@EXAMPLE.COM', type: 'WORK' }] }),
];

beforeAll(async () => {
  t = await startTestApp();
  for (const u of USERS) {
    const res = await t.req('POST', '/scim/v2/Users', u);
    expect(res.statusCode, res.body).toBe(201);
    ids[u.userName] = res.json().id;
    created[u.userName] = res.json().meta.created;
    // Distinct creation times, so meta.created comparisons have one right answer.
    await new Promise((r) => setTimeout(r, 5));
  }
  const group = async (displayName: string, members: Array<{ value: string; display?: string }>) => {
    const res = await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName, members });
    expect(res.statusCode, res.body).toBe(201);
    ids[displayName] = res.json().id;
  };
  // members.display is what the client sent (RFC 7643 §4.2): alice and Tour Guides have none.
  await group('Tour Guides', [{ value: ids.bjensen!, display: 'Babs Jensen' }, { value: ids.alice! }]);
  await group('Admins', [{ value: ids.JSmith!, display: 'JSmith' }, { value: ids['Tour Guides']! }]);
  await group('Empty', []);
});
afterAll(async () => {
  await t?.close();
});

const ALL = USERS.map((u) => u.userName);
const except = (...names: string[]) => ALL.filter((n) => !names.includes(n));
const sorted = (l: readonly string[]) => [...l].sort();

async function listUsers(filter: string): Promise<string[]> {
  const res = await t.req('GET', `/scim/v2/Users?count=100&filter=${encodeURIComponent(filter)}`);
  expect(res.statusCode, `${filter}: ${res.body}`).toBe(200);
  const body = res.json();
  expect(body.totalResults).toBe(body.Resources.length);
  return sorted(body.Resources.map((r: { userName: string }) => r.userName));
}

async function listGroups(filter: string): Promise<string[]> {
  const res = await t.req('GET', `/scim/v2/Groups?filter=${encodeURIComponent(filter)}`);
  expect(res.statusCode, `${filter}: ${res.body}`).toBe(200);
  return sorted(res.json().Resources.map((r: { displayName: string }) => r.displayName));
}

interface Case {
  filter: string | (() => string);
  expected: string[] | (() => string[]);
}

const text = (f: Case['filter']) => (typeof f === 'function' ? f() : f);
const names = (e: Case['expected']) => sorted(typeof e === 'function' ? e() : e);

const USER_CASES: Record<string, Case[]> = {
  'userName (caseExact=false): every operator': [
    { filter: 'userName eq "BJENSEN"', expected: ['bjensen'] },
    { filter: 'userName eq "jsmith"', expected: ['JSmith'] },
    { filter: 'userName ne "bjensen"', expected: except('bjensen') },
    { filter: 'userName co "SMI"', expected: ['JSmith'] },
    { filter: 'userName sw "B"', expected: ['bjensen', 'bob_x', 'bobax'] },
    { filter: 'userName ew "UPPER"', expected: ['Eve.Upper'] },
    { filter: 'userName gt "d"', expected: ['dave', 'Eve.Upper', 'JSmith'] },
    { filter: 'userName ge "dave"', expected: ['dave', 'Eve.Upper', 'JSmith'] },
    { filter: 'userName lt "b"', expected: ['alice'] },
    { filter: 'userName le "BJENSEN"', expected: ['alice', 'bjensen'] },
    { filter: 'userName pr', expected: ALL },
  ],
  'LIKE metacharacters match literally': [
    { filter: 'userName sw "bob_"', expected: ['bob_x'] },
    { filter: 'title co "100%"', expected: ['bob_x'] },
    { filter: 'title sw "1000"', expected: ['bobax'] },
    { filter: 'title co "\\\\"', expected: ['carol'] },
    { filter: 'title ew "\\\\lead"', expected: ['carol'] },
  ],
  'externalId and id (caseExact=true)': [
    { filter: 'externalId eq "EXT-bj"', expected: ['bjensen'] },
    { filter: 'externalId eq "EXT-BJ"', expected: ['Eve.Upper'] },
    { filter: 'externalId eq "ext-bj"', expected: [] },
    { filter: 'externalId co "bj"', expected: ['bjensen'] },
    { filter: 'externalId sw "ext"', expected: ['JSmith'] },
    { filter: 'externalId gt "EXT-BJ"', expected: ['bjensen', 'JSmith'] },
    { filter: 'externalId pr', expected: ['bjensen', 'Eve.Upper', 'JSmith'] },
    { filter: () => `id eq "${ids.alice}"`, expected: ['alice'] },
    { filter: () => `id eq "${ids.alice!.toUpperCase()}"`, expected: [] },
    { filter: () => `id ne "${ids.alice}"`, expected: except('alice') },
    { filter: 'id eq "not-a-uuid"', expected: [] },
  ],
  'multi-valued emails: any value, value paths on one element': [
    { filter: 'emails.value eq "john.smith@example.com"', expected: ['JSmith'] },
    { filter: 'emails co "EXAMPLE.COM"', expected: ['alice', 'bjensen', 'dave', 'Eve.Upper', 'JSmith'] },
    { filter: 'emails.value ew ".org"', expected: ['alice', 'bjensen'] },
    { filter: 'emails[type eq "work" and value co "@example.com"]', expected: ['bjensen', 'Eve.Upper', 'JSmith'] },
    { filter: 'emails[type eq "home" and value co "work"]', expected: [] },
    { filter: 'emails.type eq "home" and emails.value co "work"', expected: ['alice'] },
    { filter: 'emails[primary eq true]', expected: ['alice', 'bjensen'] },
    { filter: 'emails.primary eq true', expected: ['alice', 'bjensen'] },
    { filter: 'emails[not (type eq "work")]', expected: ['alice', 'bjensen', 'dave'] },
    { filter: 'emails[type eq "work" or type eq "other"] and active eq true', expected: ['alice', 'bjensen', 'dave'] },
    { filter: 'emails pr', expected: ['alice', 'bjensen', 'dave', 'Eve.Upper', 'JSmith'] },
    { filter: 'emails.primary pr', expected: ['alice', 'bjensen'] },
    { filter: 'not (emails pr)', expected: ['bob_x', 'bobax', 'carol'] },
    { filter: 'emails eq null', expected: ['bob_x', 'bobax', 'carol'] },
  ],
  'complex name: sub-attributes and value path': [
    { filter: 'name.familyName eq "jensen"', expected: ['bjensen'] },
    { filter: 'name.givenName sw "a"', expected: ['alice'] },
    { filter: 'name pr', expected: ['alice', 'bjensen', 'JSmith'] },
    { filter: 'name.formatted pr', expected: ['bjensen'] },
    { filter: 'name[givenName eq "John" and familyName eq "Smith"]', expected: ['JSmith'] },
  ],
  'URN-qualified and case-insensitive names': [
    { filter: `${ENT}:employeeNumber eq "701984"`, expected: ['bjensen'] },
    { filter: `${ENT}:department eq "tour operations"`, expected: ['bjensen'] },
    { filter: `${ENT}:department pr`, expected: ['alice', 'bjensen', 'JSmith'] },
    { filter: `${ENT}:manager.value eq "mgr-1"`, expected: ['alice', 'bjensen'] },
    { filter: `${ENT}:manager pr`, expected: ['alice', 'bjensen'] },
    { filter: `${ENT}:manager.value sw "MGR"`, expected: ['alice', 'bjensen'] },
    { filter: `${USER}:userName eq "alice"`, expected: ['alice'] },
    { filter: `${USER.toUpperCase()}:USERNAME eq "alice"`, expected: ['alice'] },
    { filter: 'USERNAME eq "alice"', expected: ['alice'] },
    { filter: 'Emails.Value co "JENSEN"', expected: ['bjensen'] },
  ],
  'boolean and null literals': [
    { filter: 'active eq true', expected: ['alice', 'bjensen', 'bob_x', 'dave'] },
    { filter: 'active eq false', expected: ['Eve.Upper', 'JSmith'] },
    { filter: 'active ne true', expected: ['bobax', 'carol', 'Eve.Upper', 'JSmith'] },
    { filter: 'active pr', expected: ['alice', 'bjensen', 'bob_x', 'dave', 'Eve.Upper', 'JSmith'] },
    { filter: 'active eq null', expected: ['bobax', 'carol'] },
    { filter: 'title eq null', expected: ['alice', 'dave', 'Eve.Upper'] },
    { filter: 'title ne null', expected: ['bjensen', 'bob_x', 'bobax', 'carol', 'JSmith'] },
    { filter: 'title ne "Manager"', expected: except('JSmith') },
    { filter: 'nickName pr', expected: ['alice', 'bjensen'] },
  ],
  'dateTime and meta': [
    { filter: 'meta.created gt "2000-01-01T00:00:00Z"', expected: ALL },
    { filter: () => `meta.created gt "${created.alice}"`, expected: ['bob_x', 'bobax', 'carol', 'dave', 'Eve.Upper'] },
    { filter: () => `meta.created ge "${created.alice}"`, expected: ['alice', 'bob_x', 'bobax', 'carol', 'dave', 'Eve.Upper'] },
    { filter: () => `meta.created lt "${created.JSmith}"`, expected: ['bjensen'] },
    { filter: () => `meta.created le "${created.JSmith}" and meta.created ge "${created.bjensen}"`, expected: ['bjensen', 'JSmith'] },
    { filter: () => `meta.created eq "${created.carol}"`, expected: ['carol'] },
    { filter: () => `meta.lastModified gt "${new Date(Date.parse(created.carol!)).toISOString().replace('Z', '+00:00')}"`, expected: ['dave', 'Eve.Upper'] },
    { filter: 'meta.lastModified lt "2000-01-01T00:00:00Z"', expected: [] },
    { filter: 'meta.resourceType eq "User"', expected: ALL },
    { filter: 'meta.resourceType eq "user"', expected: [] },
    { filter: 'meta.version eq "W/\\"1\\""', expected: ALL },
    { filter: 'meta pr', expected: ALL },
  ],
  'and / or / not precedence and parentheses': [
    { filter: 'userName eq "alice" or userName eq "bjensen" and active eq false', expected: ['alice'] },
    { filter: '(userName eq "alice" or userName eq "bjensen") and active eq true', expected: ['alice', 'bjensen'] },
    { filter: 'userName eq "alice" or (userName eq "bjensen" and active eq false)', expected: ['alice'] },
    { filter: 'not (active eq true) and emails pr', expected: ['Eve.Upper', 'JSmith'] },
    { filter: 'not (userName sw "b" or userName sw "e")', expected: ['alice', 'carol', 'dave', 'JSmith'] },
    { filter: 'not (not (userName eq "carol"))', expected: ['carol'] },
    { filter: 'title pr and (title co "remote" or title co "guide") and not (active eq true)', expected: ['bobax'] },
  ],
  'User groups from group_members': [
    { filter: () => `groups.value eq "${ids['Tour Guides']}"`, expected: ['alice', 'bjensen'] },
    { filter: 'groups[display eq "tour guides"]', expected: ['alice', 'bjensen'] },
    { filter: 'groups.display co "admin"', expected: ['JSmith'] },
    { filter: 'groups pr', expected: ['alice', 'bjensen', 'JSmith'] },
    { filter: 'not (groups pr)', expected: except('alice', 'bjensen', 'JSmith') },
    { filter: 'groups.type eq "direct"', expected: ['alice', 'bjensen', 'JSmith'] },
  ],
};

const GROUP_CASES: Case[] = [
  { filter: () => `members[value eq "${ids.bjensen}"]`, expected: ['Tour Guides'] },
  { filter: () => `members.value eq "${ids.JSmith}"`, expected: ['Admins'] },
  { filter: () => `members eq "${ids.alice}"`, expected: ['Tour Guides'] },
  { filter: 'members pr', expected: ['Admins', 'Tour Guides'] },
  { filter: 'not (members pr)', expected: ['Empty'] },
  { filter: 'members eq null', expected: ['Empty'] },
  { filter: 'members[type eq "Group"]', expected: ['Admins'] },
  { filter: 'members[type eq "user" and display eq "babs jensen"]', expected: ['Tour Guides'] },
  { filter: 'members.display co "jsmith"', expected: ['Admins'] },
  // alice was added without a display: none is derived from her name.
  { filter: () => `members[value eq "${ids.alice}" and display pr]`, expected: [] },
  { filter: 'displayName eq "admins"', expected: ['Admins'] },
  { filter: 'displayName sw "T" or displayName ew "ty"', expected: ['Empty', 'Tour Guides'] },
  { filter: 'meta.resourceType eq "Group"', expected: ['Admins', 'Empty', 'Tour Guides'] },
];

describe('filter fixture table: Users (RFC 7644 §3.4.2.2)', () => {
  for (const [title, cases] of Object.entries(USER_CASES)) {
    describe(title, () => {
      for (const c of cases) {
        it(typeof c.filter === 'string' ? c.filter : c.filter.toString().replace(/^\(\) => `?|`$/g, ''), async () => {
          expect(await listUsers(text(c.filter))).toEqual(names(c.expected));
        });
      }
    });
  }
});

describe('filter fixture table: Groups and members', () => {
  for (const c of GROUP_CASES) {
    it(typeof c.filter === 'string' ? c.filter : c.filter.toString().replace(/^\(\) => `?|`$/g, ''), async () => {
      expect(await listGroups(text(c.filter))).toEqual(names(c.expected));
    });
  }
});

/** [filter, endpoint, detail pattern]: each is 400 invalidFilter and the detail says why. */
const INVALID: Array<[string, string, RegExp]> = [
  ['userNmae eq "bjensen"', 'Users', /Unknown attribute 'userNmae'/],
  ['name.middle eq "J"', 'Users', /no sub-attribute 'middle'/],
  ['userName.value eq "x"', 'Users', /userName' has no sub-attributes/],
  ['emails[foo eq "x"]', 'Users', /emails' has no sub-attribute 'foo'/],
  ['userName[value eq "x"]', 'Users', /not multi-valued or complex/],
  ['name eq "Barbara"', 'Users', /'name' is complex/],
  ['meta[resourceType eq "User"]', 'Users', /'meta\[…\]' is not supported/],
  ['active gt "a"', 'Users', /boolean/],
  ['active eq "true"', 'Users', /boolean: compare it with true or false/],
  ['active gt true', 'Users', /position/],
  ['active co true', 'Users', /position/],
  ['userName eq 42', 'Users', /userName' is a string/],
  [`${ENT}:employeeNumber eq 701984`, 'Users', /employeeNumber' is a string/],
  ['userName eq true', 'Users', /is a string/],
  ['meta.created gt "yesterday"', 'Users', /dateTime/],
  ['meta.created co "2020-01-01T00:00:00Z"', 'Users', /not a string/],
  ['meta.lastModified eq 5', 'Users', /dateTime/],
  ['x509Certificates.value gt "MIIB"', 'Users', /binary/],
  ['password eq "secret"', 'Users', /never returned/],
  ['meta.location eq "https://x"', 'Users', /meta.location' is derived/],
  ['groups.$ref pr', 'Users', /groups.\$ref' is derived/],
  [`${GROUP}:displayName eq "Admins"`, 'Users', /Unknown attribute/],
  ['urn:example:unknown:attr eq "x"', 'Users', /Unknown attribute/],
  ['userName eq "x"', 'Groups', /Unknown attribute 'userName'.*Group/],
  ['members.$ref pr', 'Groups', /members.\$ref' is derived/],
  ['members[foo eq "x"]', 'Groups', /no sub-attribute 'foo'/],
  ['emails[value eq "x"].type', 'Users', /position/],
  ['userName eq', 'Users', /position/],
  ['(userName eq "x"', 'Users', /position/],
  ['emails[type eq "work"', 'Users', /position/],
  ['userName eq "x" and', 'Users', /position/],
  ['  ', 'Users', /empty/],
];

describe('invalid filters are 400 invalidFilter with a detail', () => {
  for (const [filter, endpoint, detail] of INVALID) {
    it(`${endpoint}: ${filter}`, async () => {
      const res = await t.req('GET', `/scim/v2/${endpoint}?filter=${encodeURIComponent(filter)}`);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidFilter' });
      expect(res.json().detail).toMatch(detail);
    });
  }
});

describe('filters through POST .search (RFC 7644 §3.4.3)', () => {
  const search = (url: string, body: Record<string, unknown>) => t.req('POST', url, { schemas: [SEARCH], ...body });

  it('per type: the same engine as GET', async () => {
    const res = await search('/scim/v2/Users/.search', { filter: 'emails[type eq "work" and value co "@example.com"]' });
    expect(res.statusCode, res.body).toBe(200);
    expect(sorted(res.json().Resources.map((r: { userName: string }) => r.userName))).toEqual(sorted(['bjensen', 'Eve.Upper', 'JSmith']));
  });

  it('at the root, an attribute only one type has is "no value" for the other (RFC 7644 §3.4.2.1)', async () => {
    const res = await search('/scim/v2/.search', { filter: 'userName eq "alice" or members pr' });
    expect(res.statusCode, res.body).toBe(200);
    const got = res.json().Resources.map((r: { meta: { resourceType: string }; userName?: string; displayName?: string }) => `${r.meta.resourceType}:${r.userName ?? r.displayName}`);
    expect(sorted(got)).toEqual(sorted(['User:alice', 'Group:Admins', 'Group:Tour Guides']));
  });

  it('at the root, displayName matches Users and Groups alike', async () => {
    const res = await search('/scim/v2/.search', { filter: 'displayName co "jensen" or displayName eq "admins"' });
    const got = res.json().Resources.map((r: { id: string }) => r.id);
    expect(sorted(got)).toEqual(sorted([ids.bjensen!, ids.Admins!]));
  });

  it('GET on the server root queries every type too (RFC 7644 §3.4.2.1)', async () => {
    const res = await t.req('GET', `/scim/v2?filter=${encodeURIComponent('displayName co "jensen" or displayName eq "admins"')}&attributes=displayName`);
    expect(res.statusCode, res.body).toBe(200);
    const got = res.json().Resources.map((r: { id: string }) => r.id);
    expect(sorted(got)).toEqual(sorted([ids.bjensen!, ids.Admins!]));
    expect(Object.keys(res.json().Resources[0]).sort()).toEqual(['displayName', 'id', 'schemas']);
  });

  it('at the root, an attribute no type has is invalidFilter', async () => {
    const res = await search('/scim/v2/.search', { filter: 'nope eq "x"' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ scimType: 'invalidFilter', detail: expect.stringMatching(/nope.*User or Group/) });
  });
});
