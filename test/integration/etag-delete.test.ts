import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';

/** RFC 7644 §3.14: DELETE honours If-Match like PUT and PATCH. */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const t = useTestApp();

describe('DELETE with If-Match', () => {
  it('a stale ETag is 412 and the resource stays; the current one deletes it', async () => {
    const created = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'etag-delete' });
    const id = created.json().id as string;
    const etag = created.headers.etag as string;
    expect(etag).toBe(created.json().meta.version);
    const stale = await t.req('DELETE', `/scim/v2/Users/${id}`, undefined, { headers: { 'if-match': 'W/"stale"' } });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '412' });
    expect((await t.req('GET', `/scim/v2/Users/${id}`)).statusCode).toBe(200);
    expect((await t.req('DELETE', `/scim/v2/Users/${id}`, undefined, { headers: { 'if-match': etag } })).statusCode).toBe(204);
    expect((await t.req('GET', `/scim/v2/Users/${id}`)).statusCode).toBe(404);
  });
});
