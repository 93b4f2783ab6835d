import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { encodeQuery, ERROR_URN, expectNo5xx, expectScimClientError, fcParams, GROUP, PATCH_OP, registeredRoutes, snapshot, USER } from './support.js';

/**
 * Hostile query strings on every route the router knows (enumerated from fastify, as
 * access-routes.test.ts does, with a token holding every scope): repeated parameters, empty ones,
 * `[]` suffixes, `__proto__`, numbers too large or negative or not numbers at all, and
 * percent-encoding that is not UTF-8. Never a 5xx; every error is an RFC 7644 §3.12 SCIM body; a
 * repeated parameter is 400 invalidValue naming it (RFC 7644 §3.4.2: each parameter takes one
 * value); nothing in the database changes.
 */
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

let t: TestApp;
let routes: string[];
let ids: { user: string; group: string; txn: string; stream: string };
let before: Record<string, string>;

beforeAll(async () => {
  t = await startTestApp();
  const user = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'bjensen', emails: [{ value: 'b@example.com' }] })).json();
  const group = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Ops', members: [{ value: user.id }] })).json();
  // An async request that stays pending (no worker here), so /AsyncRequests/:id has a real id.
  const accepted = await t.req('PATCH', `/scim/v2/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'B' }] }, { headers: { prefer: 'respond-async' } });
  // The stream comes last, so it holds no SETs and a poll changes nothing.
  const stream = (await t.req('POST', '/ssf/streams', { events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] })).json();
  ids = { user: user.id, group: group.id, txn: accepted.headers['set-txn'] as string, stream: stream.stream_id };
  routes = registeredRoutes(t);
  before = await snapshot(t);
});
afterAll(async () => {
  await t?.close();
});

/** The route's path with real ids, so the handlers behind the ids run too. */
function urlOf(path: string): string {
  return path
    .replace('/users/:id', `/Users/${ids.user}`)
    .replace('/groups/:id', `/Groups/${ids.group}`)
    .replace('/asyncrequests/:id', `/AsyncRequests/${ids.txn}`)
    .replace('/ssf/streams/:id', `/ssf/streams/${ids.stream}`)
    .replace('/schemas/:id', `/Schemas/${USER}`)
    .replace('/resourcetypes/:name', '/ResourceTypes/User');
}

/**
 * A body that lets the handler run and changes nothing: searches and polls are reads, a PATCH
 * that sets what is already there changes nothing (and answers with the projected resource when
 * `attributes` is asked for), and every other write gets a body it refuses.
 */
function bodyOf(method: string, path: string): unknown {
  if (path.endsWith('/.search')) return { schemas: [SEARCH], count: 1 };
  if (path.endsWith('/poll')) return { returnImmediately: true };
  if (method === 'PATCH' && path === '/scim/v2/users/:id') return { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'userName', value: 'bjensen' }] };
  if (method === 'PATCH' && path === '/scim/v2/groups/:id') return { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Ops' }] };
  return ['POST', 'PUT', 'PATCH'].includes(method) ? [] : undefined;
}

/** DELETE on a real resource would delete it; an unknown (well-formed) id runs the same checks. */
const deleteUrl = (path: string) => urlOf(path).replace(/\/(Users|Groups)\/[^/?]+/, '/$1/00000000-0000-4000-8000-000000000000');

async function send(route: string, query: string): Promise<LightMyRequestResponse> {
  const [method, path] = route.split(' ') as [string, string];
  const body = bodyOf(method, path);
  // DELETE /ssf/streams?stream_id=<the real one> with otherwise harmless parameters rightly deletes
  // the stream: a DELETE names a well-formed stream that does not exist instead, as for resources.
  const q = method === 'DELETE' ? query.replaceAll(ids.stream, 'f-000000000000') : query;
  const url = `${method === 'DELETE' ? deleteUrl(path) : urlOf(path)}${q === '' ? '' : `?${q}`}`;
  return t.app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${t.token}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

/** Not a 5xx, an RFC 7644 §3.12 body when it is an error; /readyz is 503 by design here (no worker). */
function expectHarmless(route: string, res: LightMyRequestResponse, context: string) {
  if (/ \/readyz$/.test(route) && res.statusCode === 503) return;
  if (route.startsWith('HEAD ')) {
    expect(res.statusCode, context).toBeLessThan(500);
    return;
  }
  expectNo5xx(res, context);
}

function expectRepeatedRefused(res: LightMyRequestResponse, name: string, context: string) {
  expect(res.statusCode, `${context}: ${res.body.slice(0, 300)}`).toBe(400);
  if (res.raw.req.method === 'HEAD') return;
  expectScimClientError(res, context);
  expect(res.json().scimType, context).toBe('invalidValue');
  expect(res.json().detail, context).toContain(JSON.stringify(name));
}

const SCIM_PARAMETERS = ['filter', 'sortBy', 'sortOrder', 'startIndex', 'count', 'cursor', 'attributes', 'excludedAttributes'];
const OTHER_PARAMETERS = ['status', 'stream_id', 'limit', 'unknown'];

describe('a repeated query parameter', () => {
  it('GET /scim/v2/?filter=a&filter=b is 400 invalidValue naming filter (was a 500)', async () => {
    const res = await t.req('GET', '/scim/v2/?filter=a&filter=b');
    expectRepeatedRefused(res, 'filter', 'root query');
  });

  it('is 400 invalidValue naming it on every route, whatever the parameter, before the handler runs', async () => {
    expect(routes.length).toBeGreaterThan(40);
    for (const route of routes) {
      for (const name of [...SCIM_PARAMETERS, ...OTHER_PARAMETERS]) {
        for (const query of [`${name}=a&${name}=b`, `${name}=1&${name}=1`, `${name}&${name}`]) {
          expectRepeatedRefused(await send(route, query), name, `${route}?${query}`);
        }
      }
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it('the values handlers read are single strings again: one value of each works', async () => {
    const res = await t.req('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "bjensen"')}&attributes=userName&sortBy=userName&sortOrder=descending&startIndex=1&count=5`);
    expect(res.statusCode).toBe(200);
    expect(res.json().Resources).toEqual([{ schemas: [USER], id: ids.user, userName: 'bjensen' }]);
    expect((await t.req('GET', `/ssf/streams?stream_id=${ids.stream}`)).json().stream_id).toBe(ids.stream);
  });
});

describe('integer query parameters', () => {
  it.each([
    ['/scim/v2/Users?startIndex=', 'x'],
    ['/scim/v2/Users?count=', '99999999999999999999999'],
    ['/scim/v2/?startIndex=', '-9007199254740993'],
    ['/scim/v2/Groups?count=', '1e3'],
    ['/scim/v2/AsyncRequests?count=', 'many'],
    ['/scim/v2/AsyncRequests?count=', '1.5'],
    ['/ssf/streams/STREAM/dead?limit=', 'NaN'],
    ['/ssf/streams/STREAM/dead?limit=', '0x10'],
  ])('%s%s is 400 invalidValue naming the parameter', async (url, value) => {
    const res = await t.req('GET', `${url.replace('STREAM', ids.stream)}${value}`);
    expectScimClientError(res, url);
    expect(res.statusCode).toBe(400);
    expect(res.json().scimType).toBe('invalidValue');
    expect(res.json().detail).toContain(/[?&](\w+)=$/.exec(url)![1]);
  });

  it('in range they keep their meaning: AsyncRequests count and dead-letter limit are clamped, not refused', async () => {
    expect((await t.req('GET', '/scim/v2/AsyncRequests?count=0')).statusCode).toBe(200);
    expect((await t.req('GET', '/scim/v2/AsyncRequests?count=9007199254740991')).json().Resources).toHaveLength(1);
    expect((await t.req('GET', `/ssf/streams/${ids.stream}/dead?limit=-5`)).json().sets).toEqual([]);
  });
});

// ---- generated query strings ----

const NAMES = [...SCIM_PARAMETERS, ...OTHER_PARAMETERS, '__proto__', 'constructor', 'toString', 'filter[]', 'attributes[]', 'count[0]', 'a[b]', ''];

/** Raw text put in the URL as is: percent-encoding that is not UTF-8, truncated or not hex. */
const RAW_VALUES = ['%ff', '%c3%28', '%e0%a4%a', '%ed%a0%80', '%f0%9f%98', '%', '%zz', '%%', '+', '%2B%20', '[]', '%5B%5D', '%00'];
const VALUES = [
  '', 'userName eq "bjensen"', 'members.value eq "x"', 'id eq "------------------------------------"', 'ascending', 'descending', 'DESCENDING',
  'userName', 'members', 'displayName,members', 'emails.value', 'urn:ietf:params:scim:schemas:core:2.0:User:userName', ',,,', 'pending',
  '0', '1', '-1', '-0', '+1', ' 1', '1.5', '1e400', '-1e400', 'NaN', 'Infinity', '0x10', '9007199254740991', '9007199254740993',
  '-9007199254740993', '99999999999999999999999999999999', '1'.repeat(400), 'true', '__proto__', 'eyJ2IjoxfQ',
  // Replaced by the real stream id when sent.
  'STREAM_ID',
];

const value = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...VALUES).map((v) => encodeURIComponent(v)) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_VALUES) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.bigInt().map(String) },
  { weight: 1, arbitrary: fc.double().map((d) => encodeURIComponent(String(d))) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map(encodeQuery) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 12 }).map(encodeURIComponent) },
);
const name = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 }) });
/** A parameter with a value, or bare (`?cursor`). */
const param = fc.tuple(name, fc.option(value, { freq: 6, nil: undefined }));
/** Some parameters, one of them sometimes repeated. */
const query = fc
  .tuple(fc.array(param, { maxLength: 6 }), fc.option(fc.nat(), { nil: undefined }))
  .map(([ps, dup]) => (dup !== undefined && ps.length > 0 ? [...ps, ps[dup % ps.length]!] : ps));

const encodeName = (n: string) => (/^[\w[\]]*$/.test(n) ? n : encodeURIComponent(n));
const queryText = (ps: readonly (readonly [string, string | undefined])[]) =>
  ps
    .filter(([n, v]) => !(n === '' && v === undefined))
    .map(([n, v]) => (v === undefined ? encodeName(n) : `${encodeName(n)}=${v.replace('STREAM_ID', ids.stream)}`))
    .join('&');

/** The names fastify's parser will see more than once. */
function repeated(ps: readonly (readonly [string, string | undefined])[]): string[] {
  const seen = new Map<string, number>();
  for (const [n, v] of ps) if (!(n === '' && v === undefined)) seen.set(n, (seen.get(n) ?? 0) + 1);
  return [...seen].filter(([, c]) => c > 1).map(([n]) => n);
}

describe('generated query strings on every route', () => {
  it('never a 5xx; errors are SCIM bodies; a repeated parameter is 400 invalidValue; the database is unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(query, async (ps) => {
        const text = queryText(ps);
        const twice = repeated(ps);
        for (const route of routes) {
          const res = await send(route, text);
          const context = `${route}?${text}`;
          expectHarmless(route, res, context);
          if (twice.length > 0) {
            expect(res.statusCode, `${context}: ${res.body.slice(0, 300)}`).toBe(400);
            if (res.raw.req.method !== 'HEAD') expect(res.json(), context).toMatchObject({ schemas: [ERROR_URN], status: '400', scimType: 'invalidValue' });
          }
        }
        expect(await snapshot(t), text).toEqual(before);
      }),
      fcParams(25, 300),
    );
  });
});
