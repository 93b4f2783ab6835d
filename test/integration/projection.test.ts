import { describe, expect, it } from 'vitest';
import type { ProvisioningCtx } from '../../src/provisioning/context.js';
import { patchResource } from '../../src/provisioning/patch.js';
import { createResource, replaceResource } from '../../src/provisioning/write.js';
import type { Storage } from '../../src/storage/index.js';
import { useTestApp } from '../helpers/app.js';

/**
 * `attributes` / `excludedAttributes` on write responses (RFC 7644 §3.9: "Clients MAY request a
 * partial resource representation on any operation that returns a resource within the response
 * by specifying either of the mutually exclusive URL query parameters"), with RFC 7643 §2.2
 * `returned`; and a Group's members, which a response that leaves them out never reads.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const t = useTestApp();

const userBody = (userName: string) => ({
  schemas: [USER, ENT],
  userName,
  password: 'Secret-123!',
  name: { givenName: 'Ann', familyName: 'Lee' },
  title: 'Lead',
  emails: [{ value: `${userName}@example.com`, type: 'work' }],
  [ENT]: { department: 'Ops', costCenter: '42' },
});

async function mkUser(userName: string) {
  const res = await t.req('POST', '/scim/v2/Users', userBody(userName));
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; meta: { version: string } };
}

async function mkGroup(displayName: string, memberIds: string[]) {
  const res = await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName, members: memberIds.map((value) => ({ value })) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string };
}

const memberValues = (g: { members?: { value: string }[] }) => (g.members ?? []).map((m) => m.value);

describe('POST with attributes / excludedAttributes (RFC 7644 §3.3, §3.9)', () => {
  it('?attributes= answers 201 with only the named attributes, plus id and schemas (returned=always)', async () => {
    const res = await t.req('POST', '/scim/v2/Users?attributes=userName,name.givenName', userBody('proj-post-a'));
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({ schemas: [USER, ENT], id: expect.any(String), userName: 'proj-post-a', name: { givenName: 'Ann' } });
    // The headers still describe the whole resource.
    expect(res.headers.location).toMatch(new RegExp(`/scim/v2/Users/${body.id}$`));
    expect(res.headers.etag).toBe('W/"1"');
    // The projection is of the response only: everything was stored.
    expect((await t.req('GET', `/scim/v2/Users/${body.id}`)).json()).toMatchObject({ title: 'Lead', [ENT]: { department: 'Ops' } });
  });

  it('?excludedAttributes= drops the named attributes (an extension attribute by its URN path) but never id', async () => {
    const res = await t.req('POST', `/scim/v2/Users?excludedAttributes=emails,id,meta,${ENT}:costCenter`, userBody('proj-post-b'));
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toHaveProperty('id');
    expect(body).not.toHaveProperty('emails');
    expect(body).not.toHaveProperty('meta');
    expect(body[ENT]).toEqual({ department: 'Ops' });
    expect(body).toMatchObject({ userName: 'proj-post-b', title: 'Lead' });
  });

  it('the password (returned=never) is not in the response even when named', async () => {
    const res = await t.req('POST', '/scim/v2/Users?attributes=password,userName', userBody('proj-post-c'));
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ schemas: [USER, ENT], id: expect.any(String), userName: 'proj-post-c' });
  });

  it('a group created with ?excludedAttributes=members answers without members, and has them', async () => {
    const [a, b] = [await mkUser('proj-pg-a'), await mkUser('proj-pg-b')];
    const res = await t.req('POST', '/scim/v2/Groups?excludedAttributes=members', { schemas: [GROUP], displayName: 'Proj Post', members: [{ value: a.id }, { value: b.id }] });
    expect(res.statusCode).toBe(201);
    expect(res.json()).not.toHaveProperty('members');
    expect(res.json()).toMatchObject({ displayName: 'Proj Post', meta: { version: 'W/"1"' } });
    expect(memberValues((await t.req('GET', `/scim/v2/Groups/${res.json().id}`)).json())).toEqual([a.id, b.id]);
  });

  it('a group created with ?attributes=members answers with the members as GET shows them', async () => {
    const [a, b] = [await mkUser('proj-pg-c'), await mkUser('proj-pg-d')];
    const res = await t.req('POST', '/scim/v2/Groups?attributes=members', { schemas: [GROUP], displayName: 'Proj Post 2', members: [{ value: b.id, display: 'proj-pg-d' }, { value: a.id }] });
    expect(res.statusCode).toBe(201);
    const got = (await t.req('GET', `/scim/v2/Groups/${res.json().id}?attributes=members`)).json();
    expect(res.json()).toEqual(got);
    expect(got.members).toEqual([
      { value: b.id, display: 'proj-pg-d', type: 'User', $ref: expect.stringMatching(new RegExp(`/scim/v2/Users/${b.id}$`)) },
      { value: a.id, type: 'User', $ref: expect.stringMatching(new RegExp(`/scim/v2/Users/${a.id}$`)) },
    ]);
  });
});

describe('PUT with attributes / excludedAttributes (RFC 7644 §3.5.1, §3.9)', () => {
  it('?attributes= answers 200 with the named attributes of the new state', async () => {
    const u = await mkUser('proj-put-a');
    const res = await t.req('PUT', `/scim/v2/Users/${u.id}?attributes=title,${ENT}:department`, { ...userBody('proj-put-a'), title: 'Chief' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ schemas: [USER, ENT], id: u.id, title: 'Chief', [ENT]: { department: 'Ops' } });
    expect(res.headers.etag).toBe('W/"2"');
  });

  it('?excludedAttributes= drops the named attributes, sub-attributes included', async () => {
    const u = await mkUser('proj-put-b');
    const res = await t.req('PUT', `/scim/v2/Users/${u.id}?excludedAttributes=name.familyName,emails.type,${ENT}`, userBody('proj-put-b'));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.name).toEqual({ givenName: 'Ann' });
    expect(body.emails).toEqual([{ value: 'proj-put-b@example.com' }]);
    expect(body).not.toHaveProperty(ENT);
    expect(body).toMatchObject({ id: u.id, userName: 'proj-put-b', meta: { version: 'W/"2"' } });
  });

  it('a group replaced with ?excludedAttributes=members answers without members; the new members are stored', async () => {
    const [a, b, c] = [await mkUser('proj-gput-a'), await mkUser('proj-gput-b'), await mkUser('proj-gput-c')];
    const g = await mkGroup('Proj Put', [a.id, b.id]);
    const res = await t.req('PUT', `/scim/v2/Groups/${g.id}?excludedAttributes=members`, { schemas: [GROUP], displayName: 'Proj Put 2', members: [{ value: c.id }, { value: a.id }] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).not.toHaveProperty('members');
    expect(res.json()).toMatchObject({ displayName: 'Proj Put 2', meta: { version: 'W/"2"' } });
    expect(memberValues((await t.req('GET', `/scim/v2/Groups/${g.id}`)).json())).toEqual([c.id, a.id]);
  });

  it('a group replaced without a projection answers with the new members, as GET shows them', async () => {
    const [a, b] = [await mkUser('proj-gput-d'), await mkUser('proj-gput-e')];
    const g = await mkGroup('Proj Put 3', [a.id]);
    const res = await t.req('PUT', `/scim/v2/Groups/${g.id}`, { schemas: [GROUP], displayName: 'Proj Put 3', members: [{ value: b.id }, { value: a.id }] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual((await t.req('GET', `/scim/v2/Groups/${g.id}`)).json());
    expect(memberValues(res.json())).toEqual([b.id, a.id]);
  });
});

describe('PATCH with attributes / excludedAttributes (RFC 7644 §3.5.2, §3.9)', () => {
  // test/integration/patch.test.ts covers User ?attributes=title / ?excludedAttributes=nickName,meta
  // and Group ?attributes=members.
  it('a User PATCH answers with the named sub-attributes and extension attributes of the new state', async () => {
    const u = await mkUser('proj-patch-a');
    const res = await t.req('PATCH', `/scim/v2/Users/${u.id}?attributes=name.familyName,${ENT}:department`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: `${ENT}:department`, value: 'Sales' }],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ schemas: [USER, ENT], id: u.id, name: { familyName: 'Lee' }, [ENT]: { department: 'Sales' } });
    expect(res.headers.etag).toBe('W/"2"');
  });

  it('a Group PATCH with ?excludedAttributes=members answers 200 with the group, without members', async () => {
    const [a, b] = [await mkUser('proj-gpatch-a'), await mkUser('proj-gpatch-b')];
    const g = await mkGroup('Proj Patch', [a.id]);
    const res = await t.req('PATCH', `/scim/v2/Groups/${g.id}?excludedAttributes=members`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: b.id }] }] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).not.toHaveProperty('members');
    expect(res.json()).toMatchObject({ id: g.id, displayName: 'Proj Patch', meta: { version: 'W/"2"' } });
    expect(res.headers.etag).toBe('W/"2"');
    expect(memberValues((await t.req('GET', `/scim/v2/Groups/${g.id}`)).json())).toEqual([a.id, b.id]);
  });

  it('a Group PATCH with ?attributes=displayName answers with id, schemas and displayName only', async () => {
    const g = await mkGroup('Proj Patch 2', []);
    const res = await t.req('PATCH', `/scim/v2/Groups/${g.id}?attributes=displayName`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Renamed' }] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ schemas: [GROUP], id: g.id, displayName: 'Renamed' });
  });
});

describe('a write response that leaves members out never reads them', () => {
  /** The app's own provisioning context on the same database, counting reads of group member rows. */
  function counting(): { ctx: ProvisioningCtx; reads: () => number } {
    let n = 0;
    const spy = (s: Storage): Storage => ({
      ...s,
      members: {
        ...s.members,
        forGroups: (ids) => {
          n += 1;
          return s.members.forGroups(ids);
        },
      },
      withTx: (fn) => s.withTx((inner) => fn(spy(inner))),
    });
    return { ctx: { ...t.deps.provisioning, storage: spy(t.deps.storage) }, reads: () => n };
  }

  it('POST and PUT build the members from the validated request: no member read, with or without a projection', async () => {
    const [a, b] = [await mkUser('nofetch-a'), await mkUser('nofetch-b')];
    const { ctx, reads } = counting();
    const created = await createResource(ctx, 'Group', { schemas: [GROUP], displayName: 'No Fetch', members: [{ value: a.id }] });
    const replaced = await replaceResource(ctx, 'Group', created.id, { schemas: [GROUP], displayName: 'No Fetch', members: [{ value: b.id }, { value: a.id }] });
    expect(reads()).toBe(0);
    expect(memberValues(created.resource as never)).toEqual([a.id]);
    expect(memberValues(replaced.resource as never)).toEqual([b.id, a.id]);
    expect(replaced.change?.attributes).toEqual(['members']);
  });

  it('PATCH on a group reads no members either (it answers 204)', async () => {
    const a = await mkUser('nofetch-c');
    const g = await mkGroup('No Fetch 2', []);
    const { ctx, reads } = counting();
    const out = await patchResource(ctx, 'Group', g.id, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: a.id }] }] });
    expect(out.status).toBe(204);
    expect(reads()).toBe(0);
  });
});
