import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { BULK_REQUEST, expectScimClientError, GROUP, PATCH_OP, registeredRoutes, snapshot, USER } from './support.js';

/**
 * Ids that are not resource ids. Resource ids are UUIDs (RFC 9562 string form); any other value
 * names no resource, so it is 404 "not found" (RFC 7644 §3.12), wherever it appears: a path, a
 * bulk path, a member value, a filter literal. Before, a value with the length and alphabet of a
 * UUID but not its shape (36 dashes) passed the check and failed in PostgreSQL's uuid cast: a 500.
 */
const MALFORMED = [
  '------------------------------------',
  '0000000-00000-4000-8000-000000000000',
  '-0000000-0000-4000-8000-000000000000',
  '00000000-0000-4000-8000-00000000000g',
  'ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ',
  '00000000000040008000000000000000', // PostgreSQL reads this as a uuid; this server never issues it
  '{00000000-0000-4000-8000-000000000000}',
  '00000000-0000-4000-8000-0000000000000',
  '00000000-0000-4000-8000-000000000000-',
  'x',
  '__proto__',
  'constructor',
  '%20',
  '%E2%80%AE',
  'a'.repeat(100),
];

let t: TestApp;
let user: { id: string };
let group: { id: string };
let stream: string;
let routes: string[];
let before: Record<string, string>;
beforeAll(async () => {
  t = await startTestApp();
  user = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'bjensen' })).json();
  group = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Ops', members: [{ value: user.id }] })).json();
  stream = (await t.req('POST', '/ssf/streams', { events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] })).json().stream_id;
  routes = registeredRoutes(t).filter((r) => /\/:(id|name)\b/.test(r));
  before = await snapshot(t);
});
afterAll(async () => {
  await t?.close();
});

/** Bodies a route would accept with a real id, so only the id is wrong. */
function bodyOf(method: string, path: string): unknown {
  if (path.endsWith('/poll')) return { returnImmediately: true };
  if (path.endsWith('/redrive') || path.endsWith('/replay')) return { all: true };
  if (path.startsWith('/scim/v2/users')) return method === 'PATCH' ? { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'B' }] } : { schemas: [USER], userName: 'bjensen' };
  if (path.startsWith('/scim/v2/groups')) return method === 'PATCH' ? { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }] } : { schemas: [GROUP], displayName: 'Ops' };
  return undefined;
}

describe('every route taking an id', () => {
  it('answers 404 for an id that is not one (Users, Groups, AsyncRequests, streams, Schemas, ResourceTypes)', async () => {
    expect(routes.length).toBeGreaterThan(15);
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string];
      for (const id of MALFORMED) {
        const body = ['POST', 'PUT', 'PATCH'].includes(method) ? bodyOf(method, path) : undefined;
        const res = await t.app.inject({
          method: method as 'GET',
          url: path.replace(/:(id|name)/, id),
          headers: { authorization: `Bearer ${t.token}`, 'if-match': 'W/"1"', ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
          ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
        });
        const context = `${method} ${path.replace(/:(id|name)/, id)}`;
        expect(res.statusCode, `${context}: ${res.body.slice(0, 200)}`).toBe(404);
        if (method === 'HEAD') continue;
        expectScimClientError(res, context);
        expect(res.json().detail, context).toMatch(/not found/);
      }
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it('Users and Groups name the resource in the detail: "User <id> not found"', async () => {
    const res = await t.req('GET', `/scim/v2/Users/${MALFORMED[0]}`);
    expect(res.json()).toMatchObject({ status: '404', detail: `User ${MALFORMED[0]} not found` });
  });
});

describe('malformed ids inside requests', () => {
  it('bulk operations on such paths fail alone with 404', async () => {
    const Operations = MALFORMED.slice(0, 8).flatMap((id, i) => [
      { method: 'PUT', path: `/Users/${id}`, bulkId: `p${i}`, data: { schemas: [USER], userName: 'bjensen' } },
      { method: 'PATCH', path: `/Groups/${id}`, data: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }] } },
      { method: 'DELETE', path: `/Users/${id}`, version: 'W/"1"' },
    ]);
    const res = await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK_REQUEST], Operations });
    expect(res.statusCode).toBe(200);
    const statuses = (res.json().Operations as { status: string }[]).map((o) => o.status);
    expect(statuses).toEqual(Operations.map(() => '404'));
    expect(await snapshot(t)).toEqual(before);
  });

  it('as member values of a group body or a PATCH they name no resource: 400 invalidValue, nothing changes', async () => {
    for (const id of MALFORMED) {
      const members = [{ value: user.id }, { value: id }];
      const attempts = [
        await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'New', members }),
        await t.req('PUT', `/scim/v2/Groups/${group.id}`, { schemas: [GROUP], displayName: 'Ops', members }),
        await t.req('PATCH', `/scim/v2/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: members }] }),
        await t.req('PATCH', `/scim/v2/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'members', value: members }] }),
      ];
      for (const res of attempts) {
        expectScimClientError(res, `member ${id}`);
        expect(res.json(), id).toMatchObject({ status: '400', scimType: 'invalidValue' });
      }
      const bulk = await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK_REQUEST], Operations: [{ method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'New', members } }] });
      expect(bulk.json().Operations[0].status, id).toBe('400');
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it('removing such a member removes nothing: 204, the membership is unchanged', async () => {
    for (const id of MALFORMED) {
      for (const op of [{ op: 'remove', path: `members[value eq ${JSON.stringify(id)}]` }, { op: 'remove', path: 'members', value: [{ value: id }] }]) {
        const res = await t.req('PATCH', `/scim/v2/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: [op] });
        expect(res.statusCode, `${id}: ${res.body}`).toBe(204);
      }
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it('filters comparing id, members.value or groups.value with such a literal match nothing', async () => {
    for (const id of MALFORMED) {
      const literal = JSON.stringify(id);
      // members is a Group attribute, groups a User one; the root query covers both types.
      const cases: Array<[string, string[]]> = [
        [`id eq ${literal}`, ['/scim/v2/Users', '/scim/v2/Groups', '/scim/v2/']],
        [`id ne ${literal} and id eq ${literal}`, ['/scim/v2/Users', '/scim/v2/Groups']],
        [`members.value eq ${literal}`, ['/scim/v2/Groups', '/scim/v2/']],
        [`members[value eq ${literal}]`, ['/scim/v2/Groups', '/scim/v2/']],
        [`groups.value eq ${literal}`, ['/scim/v2/Users', '/scim/v2/']],
        [`groups[value sw ${literal}]`, ['/scim/v2/Users']],
      ];
      for (const [filter, bases] of cases) {
        for (const base of bases) {
          const res = await t.req('GET', `${base}?filter=${encodeURIComponent(filter)}`);
          expect(res.statusCode, `${base} ${filter}: ${res.body.slice(0, 200)}`).toBe(200);
          expect(res.json().totalResults, filter).toBe(0);
        }
      }
    }
  });

  it('If-Match with a malformed tag on a real resource is 412; the route still checks the id first', async () => {
    for (const tag of ['W/"------------------------------------"', '"x"', 'garbage', '*,,']) {
      const res = await t.req('DELETE', `/scim/v2/Users/${MALFORMED[0]}`, undefined, { headers: { 'if-match': tag } });
      expect(res.statusCode).toBe(404);
    }
    const res = await t.req('PATCH', `/scim/v2/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'B' }] }, { headers: { 'if-match': 'W/"------------------------------------"' } });
    expect(res.statusCode).toBe(412);
    expect(await snapshot(t)).toEqual(before);
  });
});
