import { describe, expect, it } from 'vitest';
import { BASE_URL, useTestApp } from '../helpers/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const t = useTestApp();

const mkUser = async (userName: string) => (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName })).json();

describe('Groups (RFC 7643 §4.2)', () => {
  it('creates a group with members; members carry value, $ref and type, and a display only as sent; users list their groups', async () => {
    const u1 = await mkUser('g-member-1');
    const u2 = await mkUser('g-member-2');
    const res = await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Tour Guides', members: [{ value: u1.id }, { value: u2.id, display: 'Second, as sent' }] });
    expect(res.statusCode).toBe(201);
    const g = res.json();
    expect(g).toMatchObject({ displayName: 'Tour Guides', meta: { resourceType: 'Group', location: `${BASE_URL}/scim/v2/Groups/${g.id}`, version: 'W/"1"' } });
    expect(g.members).toEqual([
      { value: u1.id, $ref: `${BASE_URL}/scim/v2/Users/${u1.id}`, type: 'User' },
      { value: u2.id, $ref: `${BASE_URL}/scim/v2/Users/${u2.id}`, type: 'User', display: 'Second, as sent' },
    ]);
    expect((await t.req('GET', `/scim/v2/Groups/${g.id}`)).json().members).toEqual(g.members);
    const user = (await t.req('GET', `/scim/v2/Users/${u1.id}`)).json();
    expect(user.groups).toEqual([{ value: g.id, $ref: `${BASE_URL}/scim/v2/Groups/${g.id}`, type: 'direct', display: 'Tour Guides' }]);
  });

  it('replaces members with PUT and drops a deleted user from its groups', async () => {
    const u1 = await mkUser('g-put-1');
    const u2 = await mkUser('g-put-2');
    const g = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Put Group', members: [{ value: u1.id }] })).json();
    const put = await t.req('PUT', `/scim/v2/Groups/${g.id}`, { schemas: [GROUP], displayName: 'Put Group', members: [{ value: u2.id }] });
    expect(put.statusCode).toBe(200);
    expect(put.json().members.map((m: { value: string }) => m.value)).toEqual([u2.id]);
    await t.req('DELETE', `/scim/v2/Users/${u2.id}`);
    const after = (await t.req('GET', `/scim/v2/Groups/${g.id}`)).json();
    // RFC 7643 §2.5: no members is no `members` attribute.
    expect(after).not.toHaveProperty('members');
  });

  it('a member that does not exist is 400 invalidValue and nothing is created', async () => {
    const res = await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Ghosts', members: [{ value: '6a2b4c1e-0000-4000-8000-000000000000' }] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidValue' });
    const list = (await t.req('GET', '/scim/v2/Groups?filter=' + encodeURIComponent('displayName eq "Ghosts"'))).json();
    expect(list.totalResults).toBe(0);
  });

  it('displayName is required', async () => {
    const res = await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ scimType: 'invalidValue', detail: expect.stringMatching(/displayName/) });
  });

  it('excludedAttributes=members skips members on read', async () => {
    const u = await mkUser('g-ex-1');
    const g = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Excluded', members: [{ value: u.id }] })).json();
    const res = (await t.req('GET', `/scim/v2/Groups/${g.id}?excludedAttributes=members`)).json();
    expect(res.members).toBeUndefined();
    expect(res.displayName).toBe('Excluded');
  });
});

describe('ETags (RFC 7644 §3.14)', () => {
  it('If-None-Match gives 304; a stale If-Match gives 412 and changes nothing', async () => {
    const u = await mkUser('etag-user');
    const notModified = await t.req('GET', `/scim/v2/Users/${u.id}`, undefined, { headers: { 'if-none-match': u.meta.version } });
    expect(notModified.statusCode).toBe(304);
    const stale = await t.req('PUT', `/scim/v2/Users/${u.id}`, { schemas: [USER], userName: 'etag-user', displayName: 'X' }, { headers: { 'if-match': 'W/"42"' } });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ status: '412' });
    expect((await t.req('GET', `/scim/v2/Users/${u.id}`)).json().displayName).toBeUndefined();
    const ok = await t.req('PUT', `/scim/v2/Users/${u.id}`, { schemas: [USER], userName: 'etag-user', displayName: 'Y' }, { headers: { 'if-match': u.meta.version } });
    expect(ok.statusCode).toBe(200);
  });
});
