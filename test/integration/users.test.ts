import { describe, expect, it } from 'vitest';
import { BASE_URL, useTestApp } from '../helpers/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

const t = useTestApp();

const newUser = (userName: string, extra: Record<string, unknown> = {}) => ({ schemas: [USER], userName, ...extra });

describe('Users CRUD (RFC 7644 §3.3–3.6)', () => {
  it('creates a user: 201, Location, ETag, complete meta', async () => {
    const res = await t.req('POST', '/scim/v2/Users', newUser('bjensen', { name: { givenName: 'Barbara', familyName: 'Jensen' }, externalId: 'ext-1' }));
    expect(res.statusCode).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    const body = res.json();
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.userName).toBe('bjensen');
    expect(body.externalId).toBe('ext-1');
    expect(body.meta).toMatchObject({ resourceType: 'User', location: `${BASE_URL}/scim/v2/Users/${body.id}`, version: 'W/"1"' });
    expect(Date.parse(body.meta.created)).not.toBeNaN();
    expect(body.meta.lastModified).toBe(body.meta.created);
    expect(res.headers.location).toBe(body.meta.location);
    expect(res.headers.etag).toBe(body.meta.version);
  });

  it('reads, replaces and deletes a user; version moves on every change', async () => {
    const created = (await t.req('POST', '/scim/v2/Users', newUser('alice', { displayName: 'Alice' }))).json();
    const got = await t.req('GET', `/scim/v2/Users/${created.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(created);

    const put = await t.req('PUT', `/scim/v2/Users/${created.id}`, newUser('alice', { displayName: 'Alice Smith', active: true }));
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ id: created.id, displayName: 'Alice Smith', active: true, meta: { version: 'W/"2"' } });
    expect(put.json().meta.created).toBe(created.meta.created);

    const del = await t.req('DELETE', `/scim/v2/Users/${created.id}`);
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    const gone = await t.req('GET', `/scim/v2/Users/${created.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ schemas: [ERROR], status: '404' });
  });

  it('keeps the enterprise extension and never returns the password', async () => {
    const res = await t.req('POST', '/scim/v2/Users', {
      schemas: [USER, ENTERPRISE],
      userName: 'ent1',
      password: 't1meMa$heen',
      [ENTERPRISE]: { employeeNumber: '701984', department: 'Tour Operations' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body[ENTERPRISE]).toMatchObject({ employeeNumber: '701984', department: 'Tour Operations' });
    expect(body.password).toBeUndefined();
    expect(JSON.stringify((await t.req('GET', `/scim/v2/Users/${body.id}`)).json())).not.toContain('t1meMa$heen');
  });

  it('ignores readOnly input (id, meta) and keeps the server values', async () => {
    const res = await t.req('POST', '/scim/v2/Users', newUser('ro1', { id: 'client-chosen', meta: { version: 'W/"99"' } }));
    expect(res.statusCode).toBe(201);
    expect(res.json().id).not.toBe('client-chosen');
    expect(res.json().meta.version).toBe('W/"1"');
  });
});

describe('Users errors (RFC 7644 §3.12)', () => {
  it('userName is unique case-insensitively: 409 uniqueness, nothing created', async () => {
    await t.req('POST', '/scim/v2/Users', newUser('Unique.Person'));
    const dup = await t.req('POST', '/scim/v2/Users', newUser('unique.person'));
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toEqual({ schemas: [ERROR], status: '409', scimType: 'uniqueness', detail: expect.stringContaining('unique.person') });
    const list = await t.req('GET', '/scim/v2/Users?filter=' + encodeURIComponent('userName eq "UNIQUE.PERSON"'));
    expect(list.json().totalResults).toBe(1);
  });

  it('malformed JSON is 400 invalidSyntax', async () => {
    const res = await t.req('POST', '/scim/v2/Users', '{"schemas": [', { headers: { 'content-type': 'application/scim+json' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidSyntax' });
  });

  it('unknown schema URN is 400 invalidValue', async () => {
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER, 'urn:example:unknown'], userName: 'x1' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidValue', detail: expect.stringContaining('urn:example:unknown') });
  });

  it('a missing required userName is 400 invalidValue', async () => {
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], displayName: 'nobody' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidValue', detail: expect.stringMatching(/userName/) });
  });

  it('a wrongly typed attribute is 400 invalidValue', async () => {
    const res = await t.req('POST', '/scim/v2/Users', newUser('typed', { active: 'maybe' }));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ scimType: 'invalidValue', detail: expect.stringMatching(/active/) });
  });

  it('unknown id is 404 for GET, PUT and DELETE', async () => {
    for (const [m, body] of [['GET'], ['PUT', newUser('nobody')], ['DELETE']] as const) {
      const res = await t.req(m, '/scim/v2/Users/6a2b4c1e-0000-4000-8000-000000000000', body);
      expect(res.statusCode, m).toBe(404);
      expect(res.json()).toMatchObject({ schemas: [ERROR], status: '404' });
    }
  });

  it('a wrong Content-Type is 415 with a SCIM error', async () => {
    const res = await t.req('POST', '/scim/v2/Users', 'userName=x', { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ schemas: [ERROR], status: '415' });
  });

  it('an unknown endpoint is 404 with a SCIM error', async () => {
    const res = await t.req('GET', '/scim/v2/Widgets');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ schemas: [ERROR], status: '404' });
  });

  it('JSON nested beyond the bound is 400 and prototype keys are refused', async () => {
    const deep = '['.repeat(100) + ']'.repeat(100);
    const res = await t.req('POST', '/scim/v2/Users', `{"schemas":${deep}}`, { headers: { 'content-type': 'application/scim+json' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toMatch(/depth/);
    const proto = await t.req('POST', '/scim/v2/Users', '{"schemas":["' + USER + '"],"userName":"p","__proto__":{"admin":true}}', {
      headers: { 'content-type': 'application/scim+json' },
    });
    expect(proto.statusCode).toBe(400);
    expect(proto.json().scimType).toBe('invalidSyntax');
  });
});

describe('Users list (RFC 7644 §3.4.2)', () => {
  it('filters by userName, externalId and id with eq, and pages', async () => {
    const a = (await t.req('POST', '/scim/v2/Users', newUser('list-a', { externalId: 'L-A' }))).json();
    await t.req('POST', '/scim/v2/Users', newUser('list-b', { externalId: 'L-B' }));
    const byExt = (await t.req('GET', '/scim/v2/Users?filter=' + encodeURIComponent('externalId eq "L-A"'))).json();
    expect(byExt).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(byExt.Resources[0].id).toBe(a.id);
    const byId = (await t.req('GET', '/scim/v2/Users?filter=' + encodeURIComponent(`id eq "${a.id}"`))).json();
    expect(byId.totalResults).toBe(1);
    const countOnly = (await t.req('GET', '/scim/v2/Users?count=0')).json();
    expect(countOnly.Resources).toEqual([]);
    expect(countOnly.totalResults).toBeGreaterThanOrEqual(2);
    const page = (await t.req('GET', '/scim/v2/Users?startIndex=2&count=1')).json();
    expect(page).toMatchObject({ startIndex: 2, itemsPerPage: 1 });
  });
});
