import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * Sorting (RFC 7644 §3.4.2.3), index paging (§3.4.2.4), cursor paging (RFC 9865), POST .search
 * (§3.4.3) and attribute selection (§3.4.2.5), against PostgreSQL. maxResults is 10 here so
 * the cap is observable.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const MAX = 10;

/** Alternating case, so a case-sensitive sort would differ from the case-insensitive one. */
const WORDS = ['alpha', 'Bravo', 'charlie', 'Delta', 'echo', 'Foxtrot', 'golf', 'Hotel', 'india', 'Juliet', 'kilo', 'Lima', 'mike', 'November', 'oscar', 'Papa', 'quebec', 'Romeo', 'sierra', 'Tango'];

interface Res {
  id: string;
  userName?: string;
  displayName?: string;
  title?: string;
  meta: { resourceType: string; created: string };
  [k: string]: unknown;
}

let t: TestApp;
const ids = new Map<string, string>();

/** Even users have a title (so half sort "missing"), every third has emails with a primary that is not first. */
function userBody(word: string, i: number) {
  const body: Record<string, unknown> = { schemas: [USER, ENT], userName: word, name: { familyName: WORDS[WORDS.length - 1 - i] }, active: i % 2 === 0 };
  if (i % 2 === 0) body.title = `Title ${String.fromCharCode(122 - i)}`;
  if (i % 3 === 0) body.emails = [{ value: `z-${word}@example.com` }, { value: `${word}@example.com`, primary: true }];
  else if (i % 3 === 1) body.emails = [{ value: `${word}@example.com` }, { value: `0-${word}@example.com` }];
  body[ENT] = { employeeNumber: String(1000 + ((i * 7) % WORDS.length)) };
  return body;
}

beforeAll(async () => {
  t = await startTestApp({ SCIMCAST_FILTER_MAX_RESULTS: String(MAX) });
  for (const [i, word] of WORDS.entries()) {
    const res = await t.req('POST', '/scim/v2/Users', userBody(word, i));
    expect(res.statusCode, res.body).toBe(201);
    ids.set(word, res.json().id);
  }
  for (const displayName of ['Group One', 'Group Two']) {
    const res = await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName, members: [{ value: ids.get('alpha') }] });
    expect(res.statusCode, res.body).toBe(201);
    ids.set(displayName, res.json().id);
  }
});
afterAll(async () => {
  await t?.close();
});

async function get(url: string) {
  const res = await t.req('GET', url);
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return res.json() as { totalResults: number; itemsPerPage: number; startIndex?: number; nextCursor?: string; previousCursor?: string; Resources: Res[] };
}

const userNames = (rs: Res[]) => rs.map((r) => r.userName);
const byLower = (a: string, b: string) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0);
const ALL_SORTED = [...WORDS].sort(byLower);

/** Every page of a cursor walk, following nextCursor from an empty cursor. */
async function walk(query: string, between?: (page: number) => Promise<void>) {
  const pages: Array<Awaited<ReturnType<typeof get>>> = [];
  let cursor = '';
  for (let n = 0; n < 100; n++) {
    const page = await get(`/scim/v2/Users?${query}&cursor=${encodeURIComponent(cursor)}`);
    pages.push(page);
    if (!page.nextCursor) return pages;
    cursor = page.nextCursor;
    await between?.(n);
  }
  throw new Error('cursor walk did not end');
}

describe('sorting (RFC 7644 §3.4.2.3)', () => {
  it('sortBy userName is case-insensitive, ascending by default; descending reverses it', async () => {
    expect(userNames((await get('/scim/v2/Users?sortBy=userName&count=10')).Resources)).toEqual(ALL_SORTED.slice(0, 10));
    const desc = await get('/scim/v2/Users?sortBy=USERNAME&sortOrder=descending&count=10');
    expect(userNames(desc.Resources)).toEqual([...ALL_SORTED].reverse().slice(0, 10));
  });

  it('missing values sort last ascending and first descending', async () => {
    const titled = WORDS.filter((_, i) => i % 2 === 0);
    const asc = [...(await get('/scim/v2/Users?sortBy=title&count=10')).Resources, ...(await get('/scim/v2/Users?sortBy=title&startIndex=11&count=10')).Resources];
    expect(asc.slice(0, titled.length).map((r) => r.title)).toEqual(titled.map((_, k) => `Title ${String.fromCharCode(122 - 2 * k)}`).sort());
    expect(asc.slice(titled.length).every((r) => r.title === undefined)).toBe(true);
    const desc = (await get('/scim/v2/Users?sortBy=title&sortOrder=descending&count=10')).Resources;
    expect(desc.every((r) => r.title === undefined)).toBe(true);
  });

  it('a multi-valued attribute sorts by its primary value, else its first value', async () => {
    const key = (word: string) => {
      const i = WORDS.indexOf(word);
      return i % 3 === 2 ? undefined : `${word}@example.com`.toLowerCase();
    };
    const withEmails = WORDS.filter((w) => key(w) !== undefined).sort((a, b) => byLower(key(a)!, key(b)!));
    const got = [...(await get('/scim/v2/Users?sortBy=emails&count=10')).Resources, ...(await get('/scim/v2/Users?sortBy=emails&startIndex=11&count=10')).Resources];
    expect(userNames(got).slice(0, withEmails.length)).toEqual(withEmails);
    const byValue = [...(await get('/scim/v2/Users?sortBy=emails.value&count=10')).Resources];
    expect(userNames(byValue)).toEqual(withEmails.slice(0, 10));
  });

  it('sub-attributes and extension attributes sort too', async () => {
    const family = (await get('/scim/v2/Users?sortBy=name.familyName&count=3')).Resources;
    expect(family.map((r) => (r.name as { familyName: string }).familyName)).toEqual(ALL_SORTED.slice(0, 3));
    const emp = (await get(`/scim/v2/Users?sortBy=${ENT}:employeeNumber&sortOrder=descending&count=2`)).Resources;
    expect(emp.map((r) => (r[ENT] as { employeeNumber: string }).employeeNumber)).toEqual(['1019', '1018']);
  });

  it('ties are broken by id, so index pages of a boolean sort partition the set', async () => {
    const pages = [];
    for (let start = 1; start <= WORDS.length; start += 3) pages.push(...(await get(`/scim/v2/Users?sortBy=active&startIndex=${start}&count=3`)).Resources);
    expect(pages.map((r) => r.active)).toEqual([...Array(10).fill(false), ...Array(10).fill(true)]);
    expect(new Set(pages.map((r) => r.id)).size).toBe(WORDS.length);
    const falses = pages.slice(0, 10).map((r) => r.id);
    expect(falses).toEqual([...falses].sort());
  });

  it.each([
    ['sortBy=nope', /unknown attribute 'nope'/],
    ['sortBy=name', /complex/],
    ['sortBy=password', /never returned/],
    ['sortBy=x509Certificates.value', /binary/],
    ['sortBy=name.nope', /no sub-attribute/],
    ['sortBy=a.b.c', /not an attribute path/],
    ['sortBy=userName&sortOrder=up', /sortOrder/],
  ])('%s is 400 invalidValue', async (query, detail) => {
    const res = await t.req('GET', `/scim/v2/Users?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ scimType: 'invalidValue', detail: expect.stringMatching(detail) });
  });
});

describe('index paging (RFC 7644 §3.4.2.4)', () => {
  it.each([
    ['startIndex=0&count=2', { startIndex: 1, itemsPerPage: 2 }],
    ['startIndex=-5&count=2', { startIndex: 1, itemsPerPage: 2 }],
    ['startIndex=19&count=5', { startIndex: 19, itemsPerPage: 2 }],
    ['startIndex=21', { startIndex: 21, itemsPerPage: 0 }],
    ['count=0', { startIndex: 1, itemsPerPage: 0 }],
    ['count=-1', { startIndex: 1, itemsPerPage: 0 }],
    ['count=1000', { startIndex: 1, itemsPerPage: MAX }],
    ['', { startIndex: 1, itemsPerPage: MAX }],
  ])('%s', async (query, expected) => {
    const body = await get(`/scim/v2/Users?${query}`);
    expect(body).toMatchObject({ totalResults: WORDS.length, ...expected });
    expect(body.Resources).toHaveLength(expected.itemsPerPage);
    expect(body.nextCursor).toBeUndefined();
  });

  it('pages follow the sort order', async () => {
    const page = await get('/scim/v2/Users?sortBy=userName&startIndex=5&count=3');
    expect(userNames(page.Resources)).toEqual(ALL_SORTED.slice(4, 7));
  });

  it('a non-integer or repeated parameter is 400 invalidValue', async () => {
    for (const q of ['startIndex=x', 'count=1.5', 'count=1&count=2', 'sortOrder=ascending&sortOrder=descending', 'filter=a&filter=b']) {
      const res = await t.req('GET', `/scim/v2/Users?${q}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().scimType).toBe('invalidValue');
    }
  });
});

describe('cursor paging (RFC 9865)', () => {
  it('walking nextCursor from an empty cursor returns every resource once, in order', async () => {
    const pages = await walk('sortBy=userName&count=6');
    expect(pages.map((p) => p.Resources.length)).toEqual([6, 6, 6, 2]);
    expect(pages.flatMap((p) => userNames(p.Resources))).toEqual(ALL_SORTED);
    // RFC 9865 §2: an absent nextCursor is what says "last page"; neither is ever null.
    expect(pages[0]).not.toHaveProperty('previousCursor');
    expect(pages.at(-1)).not.toHaveProperty('nextCursor');
    expect(pages.slice(1).every((p) => typeof p.previousCursor === 'string')).toBe(true);
    expect(pages.every((p) => p.totalResults === WORDS.length && p.startIndex === undefined)).toBe(true);
    expect(pages.every((p) => /^[A-Za-z0-9_-]+$/.test(p.nextCursor ?? 'x'))).toBe(true);
  });

  it('`?cursor` without a value starts a walk; the default order and descending order work too', async () => {
    const first = await get('/scim/v2/Users?cursor&count=4');
    expect(first.Resources).toHaveLength(4);
    expect(first.nextCursor).toBeDefined();
    const all = (await walk('count=7')).flatMap((p) => p.Resources.map((r) => r.id));
    expect(all).toEqual(WORDS.map((w) => ids.get(w)));
    const desc = (await walk('sortBy=userName&sortOrder=descending&count=7')).flatMap((p) => userNames(p.Resources));
    expect(desc).toEqual([...ALL_SORTED].reverse());
  });

  it('a sort key with missing values and ties pages without gaps', async () => {
    const pages = await walk('sortBy=title&count=3');
    const got = pages.flatMap((p) => p.Resources.map((r) => r.id));
    expect(new Set(got).size).toBe(WORDS.length);
    const desc = (await walk('sortBy=title&sortOrder=descending&count=3')).flatMap((p) => p.Resources.map((r) => r.id));
    expect(desc).toEqual([...got].reverse());
  });

  it('previousCursor goes back one page; the first page has no previousCursor', async () => {
    const pages = await walk('sortBy=userName&count=6');
    const back = await get(`/scim/v2/Users?sortBy=userName&count=6&cursor=${pages[2]!.previousCursor}`);
    expect(userNames(back.Resources)).toEqual(userNames(pages[1]!.Resources));
    expect(back.nextCursor).toBeDefined();
    const again = await get(`/scim/v2/Users?sortBy=userName&count=6&cursor=${back.previousCursor}`);
    expect(userNames(again.Resources)).toEqual(userNames(pages[0]!.Resources));
    expect(again.previousCursor).toBeUndefined();
    const forward = await get(`/scim/v2/Users?sortBy=userName&count=6&cursor=${again.nextCursor}`);
    expect(userNames(forward.Resources)).toEqual(userNames(pages[1]!.Resources));
  });

  it('a count above filter.maxResults is capped to maxResults, and the walk still returns everything once (RFC 9865 §2.1, RFC 7644 §3.4.2.4)', async () => {
    const first = await get('/scim/v2/Users?sortBy=userName&cursor=&count=1000');
    expect(first).toMatchObject({ totalResults: WORDS.length, itemsPerPage: MAX });
    expect(first.Resources).toHaveLength(MAX);
    expect(first.nextCursor).toBeDefined();
    const pages = await walk('sortBy=userName&count=1000');
    expect(pages.map((p) => p.Resources.length)).toEqual([MAX, WORDS.length - MAX]);
    expect(pages.flatMap((p) => userNames(p.Resources))).toEqual(ALL_SORTED);
    // The same cap through POST .search, and the SPC announces the cap the server applies.
    const searched = await t.req('POST', '/scim/v2/Users/.search', { schemas: [SEARCH], cursor: '', count: MAX + 1 });
    expect(searched.json()).toMatchObject({ itemsPerPage: MAX, nextCursor: expect.any(String) });
    expect((await t.req('GET', '/scim/v2/ServiceProviderConfig')).json().filter).toEqual({ supported: true, maxResults: MAX });
  });

  it('count=0 with a cursor answers only totalResults', async () => {
    const body = await get('/scim/v2/Users?cursor=&count=0');
    expect(body).toMatchObject({ totalResults: WORDS.length, itemsPerPage: 0, Resources: [] });
    expect(body.nextCursor).toBeUndefined();
  });

  it('a resource created or deleted between pages never makes the walk skip or repeat one that exists throughout', async () => {
    const deleted = ['charlie', 'november'];
    let stop = false;
    let churned = 0;
    // Another client keeps creating and deleting users that sort everywhere in the order.
    const churn = (async () => {
      for (let n = 0; !stop; n++) {
        const word = `${WORDS[n % WORDS.length]!.toLowerCase()}-churn-${n}`;
        const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: word });
        if (n % 2 === 0) await t.req('DELETE', `/scim/v2/Users/${res.json().id}`);
        churned += 1;
      }
    })();
    const pages = await walk('sortBy=userName&count=3', async (page) => {
      if (page === 1) for (const w of deleted) await t.req('DELETE', `/scim/v2/Users/${ids.get(w === 'november' ? 'November' : w)}`);
      // At least one churn write between two pages, however busy the machine.
      const target = churned + 1;
      for (let waited = 0; churned < target && waited < 5_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
    });
    stop = true;
    await churn;
    expect(churned).toBeGreaterThan(3);
    const seen = pages.flatMap((p) => p.Resources.map((r) => r.id));
    expect(new Set(seen).size).toBe(seen.length);
    const stable = WORDS.filter((w) => !deleted.includes(w.toLowerCase()));
    for (const w of stable) expect(seen.filter((id) => id === ids.get(w))).toHaveLength(1);
    const names = pages.flatMap((p) => userNames(p.Resources)) as string[];
    expect(names).toEqual([...names].sort(byLower));
    // Restore the population for the other tests.
    for (const w of ['charlie', 'November']) {
      const res = await t.req('POST', '/scim/v2/Users', userBody(w, WORDS.indexOf(w)));
      ids.set(w, res.json().id);
    }
    const churnQuery = `/scim/v2/Users?filter=${encodeURIComponent('userName co "-churn-"')}&count=${MAX}`;
    for (let left = await get(churnQuery); left.totalResults > 0; left = await get(churnQuery)) {
      for (const r of left.Resources) await t.req('DELETE', `/scim/v2/Users/${r.id}`);
    }
  });

  it('a resource created after the cursor position appears later in the walk', async () => {
    let late = '';
    const pages = await walk('count=8', async (page) => {
      if (page === 0) late = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'zz-late' })).json().id;
    });
    expect(pages.flatMap((p) => p.Resources.map((r) => r.id))).toContain(late);
    await t.req('DELETE', `/scim/v2/Users/${late}`);
  });

  it.each([
    ['cursor=not!base64', /not a cursor issued by this server/],
    [`cursor=${Buffer.from('{"v":1}').toString('base64url')}`, /not a cursor issued by this server/],
    [`cursor=${Buffer.from('nonsense').toString('base64url')}`, /not a cursor issued by this server/],
  ])('a forged cursor (%s) is 400 invalidCursor', async (query, detail) => {
    const res = await t.req('GET', `/scim/v2/Users?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidCursor', detail: expect.stringMatching(detail) });
  });

  it('a cursor reused with another filter, sortBy or sortOrder is 400 invalidCursor', async () => {
    const first = await get('/scim/v2/Users?sortBy=userName&count=2&cursor=');
    for (const q of ['sortBy=title', 'sortBy=userName&sortOrder=descending', `sortBy=userName&filter=${encodeURIComponent('userName pr')}`, '']) {
      const res = await t.req('GET', `/scim/v2/Users?${q}&cursor=${first.nextCursor}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json()).toMatchObject({ scimType: 'invalidCursor', detail: expect.stringMatching(/different filter, sortBy or sortOrder/) });
    }
    const groups = await t.req('GET', `/scim/v2/Groups?sortBy=userName&count=2&cursor=${first.nextCursor}`);
    expect(groups.statusCode).toBe(400);
  });

  it('a cursor whose key does not fit the sort type is invalidCursor, not a database error', async () => {
    const real = (await get('/scim/v2/Users?count=2&cursor=')).nextCursor!;
    const token = JSON.parse(Buffer.from(real, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...token, k: "yesterday'; drop table resources; --" })).toString('base64url');
    const res = await t.req('GET', `/scim/v2/Users?count=2&cursor=${forged}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ scimType: 'invalidCursor', detail: expect.stringMatching(/not a cursor issued by this server/) });
  });

  it('cursor and startIndex together are 400 invalidValue', async () => {
    const res = await t.req('GET', '/scim/v2/Users?cursor=&startIndex=2');
    expect(res.statusCode).toBe(400);
    expect(res.json().scimType).toBe('invalidValue');
  });
});

describe('POST .search (RFC 7644 §3.4.3)', () => {
  const search = (url: string, body: Record<string, unknown>, opts: { auth?: string } = {}) => t.req('POST', url, { schemas: [SEARCH], ...body }, opts);

  it('/Users/.search takes filter, sortBy, sortOrder, startIndex and count from the body', async () => {
    const res = await search('/scim/v2/Users/.search', { filter: 'active eq true', sortBy: 'userName', sortOrder: 'descending', startIndex: 2, count: 3 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    const active = ALL_SORTED.filter((w) => WORDS.indexOf(w) % 2 === 0).reverse();
    expect(res.json()).toMatchObject({ totalResults: active.length, startIndex: 2, itemsPerPage: 3 });
    expect(userNames(res.json().Resources)).toEqual(active.slice(1, 4));
  });

  it('/Users/.search pages by cursor', async () => {
    const got: string[] = [];
    let cursor = '';
    for (;;) {
      const res = await search('/scim/v2/Users/.search', { sortBy: 'userName', count: 7, cursor });
      expect(res.statusCode, res.body).toBe(200);
      got.push(...userNames(res.json().Resources).map(String));
      if (!res.json().nextCursor) break;
      cursor = res.json().nextCursor;
    }
    expect(got).toEqual(ALL_SORTED);
  });

  it('/.search at the root returns Users and Groups, and pages them by cursor', async () => {
    const all: Res[] = [];
    let cursor = '';
    for (;;) {
      const res = await search('/scim/v2/.search', { sortBy: 'displayName', count: 8, cursor });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().totalResults).toBe(WORDS.length + 2);
      all.push(...res.json().Resources);
      if (!res.json().nextCursor) break;
      cursor = res.json().nextCursor;
    }
    expect(all).toHaveLength(WORDS.length + 2);
    // Only the groups have a displayName, so they sort first and the users follow.
    expect(all.slice(0, 2).map((r) => r.displayName)).toEqual(['Group One', 'Group Two']);
    expect(new Set(all.map((r) => r.meta.resourceType))).toEqual(new Set(['User', 'Group']));
  });

  it('/Groups/.search only sees groups', async () => {
    const res = await search('/scim/v2/Groups/.search', { filter: 'displayName sw "group"' });
    expect(res.json().totalResults).toBe(2);
  });

  it.each([
    [{ schemas: undefined }, /schemas/],
    [{ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'] }, /schemas/],
    [{ count: '5' }, /'count' must be an integer/],
    [{ filter: 5 }, /'filter' must be a string/],
    [{ attributes: 'userName' }, /'attributes' must be an array/],
  ])('a malformed SearchRequest %j is 400 invalidSyntax', async (patch, detail) => {
    const res = await t.req('POST', '/scim/v2/Users/.search', { schemas: [SEARCH], ...patch });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ scimType: 'invalidSyntax', detail: expect.stringMatching(detail) });
  });

  it('a body that is not an object is 400 invalidSyntax', async () => {
    const res = await t.req('POST', '/scim/v2/.search', '[1]', { headers: { 'content-type': 'application/scim+json' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().scimType).toBe('invalidSyntax');
  });

  it('needs the scim:read scope', async () => {
    const writer = await t.tokenWith(['scim:write']);
    const res = await search('/scim/v2/.search', {}, { auth: writer });
    expect(res.statusCode).toBe(403);
  });
});

describe('attributes / excludedAttributes on lists (RFC 7644 §3.4.2.5)', () => {
  it('GET ?attributes returns only the named attributes (plus id and schemas)', async () => {
    const body = await get('/scim/v2/Users?attributes=userName,emails.value&sortBy=userName&count=1');
    const r = body.Resources[0]!;
    expect(Object.keys(r).sort()).toEqual(['emails', 'id', 'schemas', 'userName']);
    expect(r.emails).toEqual([{ value: 'z-alpha@example.com' }, { value: 'alpha@example.com' }]);
  });

  it('GET ?excludedAttributes drops attributes and never members alone', async () => {
    const users = await get('/scim/v2/Users?excludedAttributes=emails,name&count=2');
    expect(users.Resources.every((r) => r.emails === undefined && r.name === undefined && typeof r.userName === 'string')).toBe(true);
    const groups = await get('/scim/v2/Groups?excludedAttributes=members');
    expect(groups.Resources.map((r) => r.members)).toEqual([undefined, undefined]);
    const full = await get('/scim/v2/Groups');
    expect(full.Resources.every((r) => Array.isArray(r.members) && r.members.length === 1)).toBe(true);
  });

  it('.search honours attributes and excludedAttributes arrays', async () => {
    const res = await t.req('POST', '/scim/v2/Groups/.search', { schemas: [SEARCH], attributes: ['displayName'] });
    expect(res.json().Resources.map((r: Res) => Object.keys(r).sort())).toEqual([
      ['displayName', 'id', 'schemas'],
      ['displayName', 'id', 'schemas'],
    ]);
    const ex = await t.req('POST', '/scim/v2/.search', { schemas: [SEARCH], excludedAttributes: ['members', 'meta'], filter: 'displayName sw "Group"' });
    expect(ex.json().Resources.every((r: Res) => r.members === undefined && r.displayName !== undefined)).toBe(true);
  });
});

describe('ServiceProviderConfig (RFC 7643 §5, RFC 9865 §4)', () => {
  it('advertises filter, sort and both pagination methods', async () => {
    const spc = (await t.req('GET', '/scim/v2/ServiceProviderConfig')).json();
    expect(spc.filter).toEqual({ supported: true, maxResults: MAX });
    expect(spc.sort).toEqual({ supported: true });
    expect(spc.pagination).toEqual({ cursor: true, index: true, defaultPaginationMethod: 'index', defaultPageSize: MAX, maxPageSize: MAX, cursorTimeout: 86400 });
  });
});
