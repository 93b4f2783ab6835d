import { describe, expect, it } from 'vitest';
import { BASE_URL, useTestApp } from '../helpers/app.js';

const t = useTestApp({ SCIMCAST_BULK_MAX_OPERATIONS: '500' });

describe('Discovery (RFC 7644 §4)', () => {
  it('ServiceProviderConfig tells the truth about capabilities', async () => {
    const res = await t.req('GET', '/scim/v2/ServiceProviderConfig');
    expect(res.statusCode).toBe(200);
    const spc = res.json();
    expect(spc.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig']);
    expect(spc.etag).toEqual({ supported: true });
    expect(spc.filter).toEqual({ supported: true, maxResults: 200 });
    expect(spc.changePassword).toEqual({ supported: false });
    expect(spc.authenticationSchemes[0]).toMatchObject({ type: 'oauthbearertoken' });
    expect(spc.meta.location).toBe(`${BASE_URL}/scim/v2/ServiceProviderConfig`);
  });

  it('a filter on discovery is refused with 403 (RFC 7644 §4)', async () => {
    const res = await t.req('GET', '/scim/v2/Schemas?filter=' + encodeURIComponent('id eq "x"'));
    expect(res.statusCode).toBe(403);
  });

  it('ResourceTypes lists User (with the enterprise extension) and Group', async () => {
    const list = (await t.req('GET', '/scim/v2/ResourceTypes')).json();
    expect(list.totalResults).toBe(2);
    const user = list.Resources.find((r: { id: string }) => r.id === 'User');
    expect(user).toMatchObject({ name: 'User', endpoint: '/Users', schema: 'urn:ietf:params:scim:schemas:core:2.0:User' });
    expect(user.schemaExtensions).toEqual([{ schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', required: false }]);
    const one = await t.req('GET', '/scim/v2/ResourceTypes/Group');
    expect(one.json()).toMatchObject({ id: 'Group', endpoint: '/Groups' });
  });

  it('Schemas serve the definitions the validator uses', async () => {
    const list = (await t.req('GET', '/scim/v2/Schemas')).json();
    const ids = list.Resources.map((s: { id: string }) => s.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'urn:ietf:params:scim:schemas:core:2.0:User',
        'urn:ietf:params:scim:schemas:core:2.0:Group',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      ]),
    );
    const user = (await t.req('GET', '/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User')).json();
    const userName = user.attributes.find((a: { name: string }) => a.name === 'userName');
    expect(userName).toMatchObject({ type: 'string', required: true, caseExact: false, uniqueness: 'server' });
    const password = user.attributes.find((a: { name: string }) => a.name === 'password');
    expect(password).toMatchObject({ mutability: 'writeOnly', returned: 'never' });
    expect((await t.req('GET', '/scim/v2/Schemas/urn:nope')).statusCode).toBe(404);
  });

  it('health and readiness', async () => {
    expect((await t.req('GET', '/healthz', undefined, { auth: null })).json()).toEqual({ status: 'ok' });
    const ready = await t.req('GET', '/readyz', undefined, { auth: null });
    // No worker runs in this test app and none has sent a heartbeat: not ready, database ok.
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'not ready', database: 'ok', worker: 'unreachable' });
    await t.deps.storage.heartbeats.beat('test-worker', new Date());
    expect((await t.req('GET', '/readyz', undefined, { auth: null })).statusCode).toBe(200);
  });
});
