import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { BULK_REQUEST, encodeQuery, expectScimClientError, rawRequest, snapshot, USER } from './support.js';

/**
 * Body size, JSON depth, filter length and complexity, and
 * bulk size are bounded. Past a bound the answer is 400 (413 for size) with a detail naming the
 * bound, and nothing changes. Each bound is set small here through its setting.
 */
let t: TestApp;
let before: Record<string, string>;
beforeAll(async () => {
  t = await startTestApp({
    SCIMCAST_MAX_BODY_SIZE: '4096',
    SCIMCAST_JSON_MAX_DEPTH: '8',
    SCIMCAST_FILTER_MAX_LENGTH: '64',
    SCIMCAST_FILTER_MAX_TERMS: '3',
    SCIMCAST_FILTER_MAX_DEPTH: '2',
    SCIMCAST_BULK_MAX_OPERATIONS: '5',
    SCIMCAST_BULK_MAX_PAYLOAD_SIZE: '8192',
  });
  await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'limits' });
  before = await snapshot(t);
});
afterAll(async () => {
  await t?.close();
});

/** `arrays` arrays around a string: inside a top-level object that is nesting depth arrays + 1. */
const nested = (arrays: number) => JSON.parse('['.repeat(arrays) + '"x"' + ']'.repeat(arrays)) as unknown;

describe('body size (SCIMCAST_MAX_BODY_SIZE, SCIMCAST_BULK_MAX_PAYLOAD_SIZE)', () => {
  it('a body over the limit is 413 naming the limit, on SCIM and SSF routes alike', async () => {
    const big = { schemas: [USER], userName: 'big', displayName: 'x'.repeat(5000) };
    for (const [method, url] of [['POST', '/scim/v2/Users'], ['POST', '/ssf/streams'], ['POST', '/scim/v2/.search']] as const) {
      const res = await t.req(method, url, big);
      expectScimClientError(res, url);
      expect(res.statusCode).toBe(413);
      expect(res.json().detail).toMatch(/4096 bytes/);
    }
  });

  it('/Bulk has its own limit, maxPayloadSize, advertised in ServiceProviderConfig', async () => {
    const ops = (n: number, pad: number) => ({
      schemas: [BULK_REQUEST],
      Operations: Array.from({ length: n }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: { schemas: [USER], userName: `bulk-limit-${i}`, displayName: 'p'.repeat(pad) } })),
    });
    const within = await t.req('POST', '/scim/v2/Bulk', ops(1, 5000)); // over the general limit, under the bulk one
    expect(within.statusCode).toBe(200);
    expect(within.json().Operations[0].status).toBe('201');
    await t.req('DELETE', within.json().Operations[0].location.replace(/^.*\/scim\/v2/, '/scim/v2'));
    const over = await t.req('POST', '/scim/v2/Bulk', ops(2, 5000));
    expectScimClientError(over, 'bulk payload');
    expect(over.statusCode).toBe(413);
    expect(over.json().detail).toMatch(/maxPayloadSize of 8192 bytes/);
    const spc = (await t.req('GET', '/scim/v2/ServiceProviderConfig')).json();
    expect(spc.bulk).toMatchObject({ supported: true, maxOperations: 5, maxPayloadSize: 8192 });
  });

  it('more operations than maxOperations is 413 naming the limit', async () => {
    const res = await t.req('POST', '/scim/v2/Bulk', {
      schemas: [BULK_REQUEST],
      Operations: Array.from({ length: 6 }, (_, i) => ({ method: 'DELETE', path: `/Users/none-${i}` })),
    });
    expectScimClientError(res, 'bulk ops');
    expect(res.statusCode).toBe(413);
    expect(res.json().detail).toMatch(/maxOperations is 5/);
  });
});

describe('JSON nesting (SCIMCAST_JSON_MAX_DEPTH)', () => {
  it('depth 8 is parsed, depth 9 is 400 invalidSyntax naming the bound', async () => {
    const ok = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'depth', x: nested(7) }); // depth 8
    expect(ok.statusCode).not.toBe(500);
    expect(ok.json().detail ?? '').not.toMatch(/depth/);
    if (ok.statusCode === 201) await t.req('DELETE', `/scim/v2/Users/${ok.json().id}`);
    const deep = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'deep', x: nested(8) }); // depth 9
    expectScimClientError(deep, 'depth 9');
    expect(deep.json()).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
    expect(deep.json().detail).toMatch(/maximum depth of 8/);
  });

  it('thousands of levels (within the body limit) are refused without exhausting the stack', async () => {
    const text = `{"schemas":["${BULK_REQUEST}"],"Operations":${'['.repeat(4000)}${']'.repeat(4000)}}`;
    const res = await rawRequest(t, 'POST', '/scim/v2/Bulk', text);
    expectScimClientError(res, 'very deep');
    expect(res.json().detail).toMatch(/maximum depth of 8/);
  });
});

describe('filters (SCIMCAST_FILTER_MAX_LENGTH, _TERMS, _DEPTH)', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['length', `userName eq "${'x'.repeat(60)}"`, /exceeds 64 characters/],
    ['terms', 'id pr or id pr or id pr or id pr', /exceeds 3 terms/],
    ['nesting', '((( id pr )))', /exceeds 2 levels of nesting/],
    ['nesting in a value filter', 'emails[type pr and (value pr and (type pr))]', /exceeds 2 levels of nesting/],
  ];
  it.each(cases)('%s: 400 invalidFilter naming the bound, in the URL and in a SearchRequest', async (_n, filter, detail) => {
    const viaUrl = await t.req('GET', `/scim/v2/Users?filter=${encodeQuery(filter)}`);
    const viaBody = await t.req('POST', '/scim/v2/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter });
    for (const res of [viaUrl, viaBody]) {
      expectScimClientError(res, filter);
      expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidFilter' });
      expect(res.json().detail).toMatch(detail);
    }
  });

  it('a filter just inside every bound works', async () => {
    const res = await t.req('GET', `/scim/v2/Users?filter=${encodeQuery('(userName eq "limits") or id pr')}`);
    expect(res.statusCode).toBe(200);
  });
});

describe('malformed requests the router sees first', () => {
  it('a path segment over 100 characters is 414 with a SCIM body', async () => {
    const res = await t.req('GET', `/scim/v2/Users/${'a'.repeat(101)}`);
    expectScimClientError(res, 'long param');
    expect(res.statusCode).toBe(414);
    expect(res.json().detail).toMatch(/100 characters/);
  });

  it('a path that is not valid percent-encoding is 400 with a SCIM body', async () => {
    const res = await t.req('GET', '/scim/v2/Users/%E0%A4%A');
    expectScimClientError(res, 'bad url');
    expect(res.statusCode).toBe(400);
  });

  it('U+0000 in a path parameter or query value is 400, not a database error', async () => {
    for (const url of ['/scim/v2/Users/%00', '/scim/v2/AsyncRequests/a%00', '/ssf/streams?stream_id=%00', '/ssf/streams/%00/stats', '/scim/v2/Users?sortBy=%00']) {
      const res = await t.req('GET', url);
      expectScimClientError(res, url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().detail).toMatch(/U\+0000/);
    }
  });

  it('every non-JSON media type is the same 415 SCIM error, on every endpoint that takes a body; invalid UTF-8 or JSON is 400', async () => {
    const types = ['text/plain', 'text/plain; charset=utf-8', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'text/html'];
    const targets: [string, string][] = [
      ['POST', '/scim/v2/Users'],
      ['PUT', '/scim/v2/Users/6a2b4c1e-0000-4000-8000-000000000000'],
      ['PATCH', '/scim/v2/Groups/6a2b4c1e-0000-4000-8000-000000000000'],
      ['POST', '/scim/v2/Bulk'],
      ['POST', '/scim/v2/.search'],
      ['POST', '/ssf/streams'],
    ];
    for (const type of types) {
      for (const [method, url] of targets) {
        // A body that would be valid JSON: the media type alone decides.
        const res = await rawRequest(t, method, url, `{"schemas":["${USER}"],"userName":"ct-${type}"}`, { 'content-type': type });
        expectScimClientError(res, `${method} ${url} ${type}`);
        expect(res.statusCode, `${method} ${url} ${type}`).toBe(415);
        expect(res.json().detail).toBe('Content-Type must be application/scim+json or application/json');
      }
    }
    const notUtf8 = await rawRequest(t, 'POST', '/scim/v2/Users', Buffer.concat([Buffer.from(`{"schemas":["${USER}"],"userName":"`), Buffer.from([0xfe, 0xff]), Buffer.from('"}')]));
    expect(notUtf8.json()).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
    const notJson = await rawRequest(t, 'POST', '/scim/v2/Users', '{"schemas":');
    expect(notJson.json()).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
  });

  it('none of the refused requests above changed anything', async () => {
    expect(await snapshot(t)).toEqual(before);
  });
});

describe('the settings themselves', () => {
  it.each([
    ['SCIMCAST_FILTER_MAX_LENGTH', 'many'],
    ['SCIMCAST_FILTER_MAX_TERMS', '0'],
    ['SCIMCAST_FILTER_MAX_DEPTH', '-1'],
    ['SCIMCAST_JSON_MAX_DEPTH', '2'],
    ['SCIMCAST_RATE_LIMIT', '-5'],
    ['SCIMCAST_RATE_BURST', '0'],
  ])('an invalid %s stops the start with a message naming it', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(new RegExp(key));
  });

  it('defaults: filters 4096 characters, 200 terms, 32 levels; rate limiting off', () => {
    const c = loadConfig({});
    expect(c.limits.filter).toEqual({ maxLength: 4096, maxNodes: 200, maxDepth: 32 });
    expect(c.rateLimit).toBeUndefined();
    expect(loadConfig({ SCIMCAST_RATE_LIMIT: '10' }).rateLimit).toEqual({ rate: 10, burst: 20 });
    expect(loadConfig({ SCIMCAST_RATE_LIMIT: '0.5', SCIMCAST_RATE_BURST: '3' }).rateLimit).toEqual({ rate: 0.5, burst: 3 });
  });
});
