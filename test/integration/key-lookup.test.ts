import { describe, expect, it, beforeAll } from 'vitest';
import { BASE_URL, useTestApp } from '../helpers/app.js';

/**
 * Lookups by a unique key (`userName eq`, `id eq`, and and/or of them), the request a
 * provisioning client sends before each write, answer from their own statement. These check
 * what a client sees of it: the ListResponse members of RFC 7644 §3.4.2 and §3.4.2.4
 * (totalResults, itemsPerPage, startIndex, count=0), the User's `groups` (RFC 7643 §4.1.2),
 * userName's caseExact=false and id's caseExact=true, and the same bodies as the general path,
 * which a sortBy selects.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const t = useTestApp();
const ids: Record<string, string> = {};
let team: string;

beforeAll(async () => {
  for (const userName of ['kl-alice', 'KL-Bob', 'kl-carol']) {
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName });
    expect(res.statusCode, res.body).toBe(201);
    ids[userName] = res.json().id;
  }
  const res = await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'KL Team', members: [{ value: ids['kl-alice'] }] });
  expect(res.statusCode, res.body).toBe(201);
  team = res.json().id;
});

async function list(query: string, type = 'Users') {
  const res = await t.req('GET', `/scim/v2/${type}?${query}`);
  expect(res.statusCode, `${query}: ${res.body}`).toBe(200);
  return res.json();
}

const f = (filter: string, more = '') => `filter=${encodeURIComponent(filter)}${more}`;
const names = (body: { Resources?: { userName: string }[] }) => (body.Resources ?? []).map((r) => r.userName);
const TWO = 'userName eq "kl-alice" or userName eq "kl-carol"';

describe('totalResults, itemsPerPage and startIndex (RFC 7644 §3.4.2.4)', () => {
  it('a hit: the one user, with its groups', async () => {
    const body = await list(f('userName eq "kl-alice"'));
    expect(body).toMatchObject({ totalResults: 1, itemsPerPage: 1, startIndex: 1 });
    expect(body.Resources).toHaveLength(1);
    expect(body.Resources[0]).toMatchObject({ id: ids['kl-alice'], userName: 'kl-alice' });
    expect(body.Resources[0].groups).toEqual([{ value: team, $ref: `${BASE_URL}/scim/v2/Groups/${team}`, type: 'direct', display: 'KL Team' }]);
  });

  it('a miss: totalResults 0 and no resources', async () => {
    const body = await list(f('userName eq "kl-nobody"'));
    expect(body).toMatchObject({ totalResults: 0, itemsPerPage: 0, startIndex: 1 });
    expect(body.Resources ?? []).toEqual([]);
  });

  it('an or of two userNames: both, oldest first, and newest first with sortOrder=descending', async () => {
    expect(names(await list(f(TWO)))).toEqual(['kl-alice', 'kl-carol']);
    expect((await list(f(TWO))).totalResults).toBe(2);
    expect(names(await list(f(TWO, '&sortOrder=descending')))).toEqual(['kl-carol', 'kl-alice']);
  });

  it('a page inside the matches, and a startIndex past the end, still count every match', async () => {
    expect(await list(f(TWO, '&startIndex=2&count=5'))).toMatchObject({ totalResults: 2, itemsPerPage: 1, startIndex: 2, Resources: [{ userName: 'kl-carol' }] });
    expect(await list(f(TWO, '&count=1'))).toMatchObject({ totalResults: 2, itemsPerPage: 1, startIndex: 1, Resources: [{ userName: 'kl-alice' }] });
    const past = await list(f(TWO, '&startIndex=3'));
    expect(past).toMatchObject({ totalResults: 2, itemsPerPage: 0, startIndex: 3 });
    expect(past.Resources ?? []).toEqual([]);
    const pastMiss = await list(f('userName eq "kl-nobody"', '&startIndex=9'));
    expect(pastMiss).toMatchObject({ totalResults: 0, itemsPerPage: 0, startIndex: 9 });
  });

  it('count=0: totalResults only', async () => {
    const body = await list(f(TWO, '&count=0'));
    expect(body).toMatchObject({ totalResults: 2, itemsPerPage: 0 });
    expect(body.Resources ?? []).toEqual([]);
  });
});

describe('the rules of the keys', () => {
  it('userName is caseExact=false (RFC 7643 §4.1): any case of value or attribute name finds it', async () => {
    for (const filter of ['userName eq "KL-ALICE"', 'USERNAME eq "kl-alice"', `${USER}:userName eq "Kl-Alice"`]) {
      expect(names(await list(f(filter))), filter).toEqual(['kl-alice']);
    }
    expect(names(await list(f('userName eq "kl-bob"')))).toEqual(['KL-Bob']);
  });

  it('id is caseExact: the id as issued finds the resource; another case or a non-id finds nothing, without an error', async () => {
    const id = ids['KL-Bob']!;
    expect(names(await list(f(`id eq "${id}"`)))).toEqual(['KL-Bob']);
    expect((await list(f(`id eq "${id.toUpperCase()}"`))).totalResults).toBe(0);
    expect((await list(f('id eq "not-an-id"'))).totalResults).toBe(0);
  });

  it('and of two keys of one user finds it; of two users, nothing; an or of an id and a userName, both', async () => {
    expect(names(await list(f(`userName eq "kl-alice" and id eq "${ids['kl-alice']}"`)))).toEqual(['kl-alice']);
    expect((await list(f(`userName eq "kl-alice" and id eq "${ids['kl-carol']}"`))).totalResults).toBe(0);
    expect(names(await list(f(`id eq "${ids['kl-carol']}" or userName eq "kl-alice"`)))).toEqual(['kl-alice', 'kl-carol']);
  });

  it('a Group by id, with its members; userName is no Group attribute and stays invalidFilter', async () => {
    const body = await list(f(`id eq "${team}"`), 'Groups');
    expect(body).toMatchObject({ totalResults: 1, Resources: [{ id: team, displayName: 'KL Team', members: [{ value: ids['kl-alice'] }] }] });
    const res = await t.req('GET', `/scim/v2/Groups?${f('userName eq "kl-alice"')}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidFilter' });
  });

  it('a number compared with userName is still invalidFilter', async () => {
    const res = await t.req('GET', `/scim/v2/Users?${f('userName eq 5')}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidFilter' });
  });

  it('excludedAttributes=groups answers without groups', async () => {
    const body = await list(f('userName eq "kl-alice"', '&excludedAttributes=groups'));
    expect(body.Resources[0]).not.toHaveProperty('groups');
  });
});

describe('the same answers as the general path', () => {
  // sortBy=meta.created is the default order, written out: it sends the same filter through
  // the general statement, so the two bodies must be equal.
  const filters = [
    'userName eq "kl-alice"',
    'userName eq "KL-BOB"',
    'userName eq "kl-nobody"',
    TWO,
    `id eq "${'00000000-0000-4000-8000-000000000000'}"`,
    'userName eq "kl-alice" or (userName eq "kl-bob" and userName eq "KL-Bob")',
  ];
  const pages = ['', '&count=0', '&startIndex=2', '&startIndex=5&count=1', '&sortOrder=descending&count=1', '&excludedAttributes=groups'];

  it('for each filter and page', async () => {
    for (const filter of [...filters, `id eq "${ids['kl-carol']}" or userName eq "kl-alice"`]) {
      for (const page of pages) {
        const flat = await list(f(filter, page));
        const general = await list(f(filter, `${page}&sortBy=meta.created`));
        expect(flat, `${filter} ${page}`).toEqual(general);
      }
    }
  });

  it('POST /Users/.search with the same filter and page', async () => {
    const res = await t.req('POST', '/scim/v2/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: TWO, startIndex: 2, count: 1 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual(await list(f(TWO, '&startIndex=2&count=1')));
  });
});
