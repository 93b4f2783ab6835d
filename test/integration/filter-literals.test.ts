import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * Filter literals end to end against PostgreSQL (RFC 7644 §3.4.2.2): strings are JSON strings
 * (RFC 8259 §7 escapes, `\"` and `\uXXXX` included), numbers, true/false/null, dateTimes
 * (RFC 7643 §2.3.5), each compared by the attribute's type and caseExact, also under URN-qualified
 * enterprise paths (RFC 7644 §3.10). test/integration/filter.test.ts has the operator tables.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let t: TestApp;
const ids: Record<string, string> = {};
const created: Record<string, string> = {};

const USERS = [
  { userName: 'quote', externalId: 'Ext-Q', title: 'The "Boss"', displayName: 'Zoë Quinn', active: true, [ENT]: { employeeNumber: '10', department: 'R&D' } },
  { userName: 'slash', externalId: 'ext-q', title: 'a\\b/c', nickName: '🙂 Sam', active: false, [ENT]: { employeeNumber: '9', department: 'r&d' } },
  { userName: 'lines', title: 'one\ntwo\tthree', displayName: 'ZOË QUINN', [ENT]: { employeeNumber: '200', organization: 'Big "B"', manager: { value: 'boss-1' } } },
  { userName: 'plain', title: 'plain', active: true },
];

beforeAll(async () => {
  t = await startTestApp();
  for (const u of USERS) {
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER, ENT], ...u });
    expect(res.statusCode, res.body).toBe(201);
    ids[u.userName] = res.json().id;
    created[u.userName] = res.json().meta.created;
    await new Promise((r) => setTimeout(r, 5));
  }
  // 'plain' goes to version 2 and a later lastModified.
  const res = await t.req('PATCH', `/scim/v2/Users/${ids.plain}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'plain 2' }] });
  expect(res.statusCode, res.body).toBe(200);
});
afterAll(async () => {
  await t?.close();
});

async function match(filter: string): Promise<string[]> {
  const res = await t.req('GET', `/scim/v2/Users?filter=${encodeURIComponent(filter)}`);
  expect(res.statusCode, `${filter}: ${res.body}`).toBe(200);
  return res.json().Resources.map((r: { userName: string }) => r.userName).sort();
}

async function invalid(filter: string, detail: RegExp) {
  const res = await t.req('GET', `/scim/v2/Users?filter=${encodeURIComponent(filter)}`);
  expect(res.statusCode, `${filter}: ${res.body}`).toBe(400);
  expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidFilter' });
  expect(res.json().detail).toMatch(detail);
}

/** Shifts an ISO instant to another UTC offset, keeping the instant. */
function atOffset(iso: string, hours: number): string {
  const d = new Date(Date.parse(iso) + hours * 3_600_000);
  const sign = hours >= 0 ? '+' : '-';
  const hh = String(Math.abs(hours)).padStart(2, '0');
  return `${d.toISOString().slice(0, -1)}${sign}${hh}:00`;
}

describe('string literals: JSON escapes (RFC 7644 §3.4.2.2, RFC 8259 §7)', () => {
  it.each([
    ['\\" inside a value', 'title eq "The \\"Boss\\""', ['quote']],
    ['\\" with co', 'title co "\\"boss\\""', ['quote']],
    ['\\\\ and \\/', 'title eq "a\\\\b\\/c"', ['slash']],
    ['\\n and \\t', 'title eq "one\\ntwo\\tthree"', ['lines']],
    ['\\u escapes of ASCII', 'userName eq "\\u0071\\u0075ote"', ['quote']],
    // displayName is caseExact=false, and the case rule covers non-ASCII letters: "ZOË QUINN" too.
    ['\\u escape of a non-ASCII letter', 'displayName eq "Zo\\u00eb Quinn"', ['lines', 'quote']],
    ['\\u escape of a non-ASCII capital', 'displayName eq "ZO\\u00cb quinn"', ['lines', 'quote']],
    ['a surrogate pair', 'nickName sw "\\ud83d\\ude42"', ['slash']],
    ['\\" in a URN-qualified extension value', `${ENT}:organization eq "Big \\"B\\""`, ['lines']],
  ])('%s: %s', async (_what, filter, expected) => {
    expect(await match(filter)).toEqual(expected);
  });

  it('a malformed escape is 400 invalidFilter', async () => {
    await invalid('title eq "\\x"', /escape|\\x/i);
    await invalid('title eq "\\u12"', /escape|\\u/i);
  });
});

describe('caseExact (RFC 7643 §2.2, §7) with escaped literals', () => {
  it.each([
    ['userName is caseExact=false', 'userName eq "\\u0051UOTE"', ['quote']],
    ['externalId is caseExact=true', 'externalId eq "\\u0045xt-Q"', ['quote']],
    ['externalId is caseExact=true (other case)', 'externalId eq "ext-q"', ['slash']],
    ['externalId ordering is by code point', 'externalId gt "Ext-Q"', ['slash']],
    ['an extension string is caseExact=false', `${ENT}:department eq "R\\u0026D"`, ['quote', 'slash']],
  ])('%s: %s', async (_what, filter, expected) => {
    expect(await match(filter)).toEqual(expected);
  });
});

describe('numbers, booleans and null (RFC 7644 §3.4.2.2 Table 3)', () => {
  it.each([
    ['true', 'active eq true', ['plain', 'quote']],
    ['false', 'active eq false', ['slash']],
    ['ne false counts an absent value', 'active ne false', ['lines', 'plain', 'quote']],
    ['null: not present', 'active eq null', ['lines']],
    ['ne null: present', 'nickName ne null', ['slash']],
    ['null on a URN-qualified complex attribute', `${ENT}:manager eq null`, ['plain', 'quote', 'slash']],
  ])('%s: %s', async (_what, filter, expected) => {
    expect(await match(filter)).toEqual(expected);
  });

  // No attribute of the User, Group or enterprise schemas is integer or decimal, so a number
  // literal can only meet a string, boolean or dateTime, which is the client's mistake.
  it('a number compared with a string attribute is 400 invalidFilter, not "no match"', async () => {
    await invalid(`${ENT}:employeeNumber gt 9`, /employeeNumber.*string|quoted/i);
    await invalid('title eq -1.5e3', /string|quoted/i);
  });

  it('strings order as strings, even when they look like numbers', async () => {
    expect(await match(`${ENT}:employeeNumber gt "9"`)).toEqual([]);
    expect(await match(`${ENT}:employeeNumber lt "9"`)).toEqual(['lines', 'quote']);
    expect(await match(`${ENT}:employeeNumber ge "10" and ${ENT}:employeeNumber le "200"`)).toEqual(['lines', 'quote']);
  });

  it('a boolean only takes eq / ne with true or false (RFC 7644 §3.4.2.2)', async () => {
    await invalid('active gt true', /"gt"/);
    await invalid('active eq 1', /boolean/i);
    await invalid('active eq "true"', /boolean/i);
  });
});

describe('dateTime and meta (RFC 7643 §2.3.5, §3.1)', () => {
  it('the same instant written with another UTC offset is equal', async () => {
    expect(await match(`meta.created eq "${atOffset(created.slash!, 2)}"`)).toEqual(['slash']);
    expect(await match(`meta.created eq "${atOffset(created.slash!, -5)}"`)).toEqual(['slash']);
  });

  it('gt / ge / lt / le order instants, whatever the offset', async () => {
    expect(await match(`meta.created gt "${atOffset(created.slash!, 3)}"`)).toEqual(['lines', 'plain']);
    expect(await match(`meta.created ge "${atOffset(created.slash!, 3)}"`)).toEqual(['lines', 'plain', 'slash']);
    expect(await match(`meta.created lt "${created.slash}"`)).toEqual(['quote']);
    expect(await match(`meta.created le "${created.slash}"`)).toEqual(['quote', 'slash']);
  });

  it('meta.lastModified moves with a change; meta.created does not', async () => {
    expect(await match(`meta.lastModified gt "${created.plain}"`)).toEqual(['plain']);
    expect(await match(`meta.created gt "${created.plain}"`)).toEqual([]);
  });

  it('meta.version is a caseExact string: escaped quotes compare and order it', async () => {
    expect(await match('meta.version eq "W/\\"2\\""')).toEqual(['plain']);
    expect(await match('meta.version gt "W/\\"1\\""')).toEqual(['plain']);
    expect(await match('meta.version eq "w/\\"2\\""')).toEqual([]);
  });

  it('a dateTime compared with a malformed or non-string literal is 400 invalidFilter', async () => {
    await invalid('meta.created gt "yesterday"', /dateTime/i);
    await invalid('meta.created gt 5', /dateTime/i);
    await invalid('meta.lastModified eq true', /dateTime/i);
  });
});

describe('URN-qualified enterprise paths (RFC 7644 §3.10)', () => {
  it.each([
    ['the full URN path', `${ENT}:employeeNumber eq "200"`, ['lines']],
    ['the URN in another case', `${ENT.toUpperCase()}:EMPLOYEENUMBER eq "200"`, ['lines']],
    ['a sub-attribute of a complex extension attribute', `${ENT}:manager.value eq "boss-1"`, ['lines']],
    ['pr on the extension attribute', `${ENT}:department pr`, ['quote', 'slash']],
    ['combined with a core attribute', `${ENT}:department eq "r&d" and active eq false`, ['slash']],
    ['under not', `not (${ENT}:department pr)`, ['lines', 'plain']],
  ])('%s: %s', async (_what, filter, expected) => {
    expect(await match(filter)).toEqual(expected);
  });

  it('an unknown attribute of the extension is 400 invalidFilter naming it', async () => {
    await invalid(`${ENT}:shoeSize eq "9"`, /shoeSize/);
  });
});
