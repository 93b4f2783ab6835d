import { describe, expect, it } from 'vitest';
import { verifySet } from '../../src/events/verify.js';
import { BASE_URL, useTestApp } from '../helpers/app.js';

/**
 * PATCH over HTTP (RFC 7644 §3.5.2) on the real database: responses, ETags (§3.14), member changes,
 * the SETs a PATCH emits (RFC 9967 §2.2, §2.4.2, §2.4.5, §2.4.6), async and bulk PATCH.
 * The document semantics are fixture-tested in test/unit/scim/patch/apply.test.ts.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const EV = 'urn:ietf:params:scim:event:';

const t = useTestApp({}, { worker: true });

const patchOp = (...Operations: Record<string, unknown>[]) => ({ schemas: [PATCH_OP], Operations });
const mkUser = async (userName: string, extra: Record<string, unknown> = {}) =>
  (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName, ...extra })).json();
const mkGroup = async (displayName: string, members: string[] = []) =>
  (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName, members: members.map((value) => ({ value })) })).json();

describe('PATCH on Users', () => {
  it('answers 200 with the whole resource and an ETag equal to meta.version (RFC 7644 §3.5.2, §3.14)', async () => {
    const u = await mkUser('patch-1', { name: { givenName: 'Ann', familyName: 'Lee' } });
    const res = await t.req('PATCH', `/scim/v2/Users/${u.id}`, patchOp({ op: 'replace', path: 'name.givenName', value: 'Anna' }));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.name).toEqual({ givenName: 'Anna', familyName: 'Lee' });
    expect(body.meta.version).toBe('W/"2"');
    expect(res.headers.etag).toBe('W/"2"');
    expect((await t.req('GET', `/scim/v2/Users/${u.id}`)).json().name.givenName).toBe('Anna');
  });

  it('If-Match: a stale ETag is 412 and changes nothing; the current one or * applies (RFC 7644 §3.14)', async () => {
    const u = await mkUser('patch-etag');
    const op = patchOp({ op: 'add', path: 'title', value: 'Chief' });
    const stale = await t.req('PATCH', `/scim/v2/Users/${u.id}`, op, { headers: { 'if-match': 'W/"7"' } });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ status: '412' });
    expect((await t.req('GET', `/scim/v2/Users/${u.id}`)).json()).not.toHaveProperty('title');
    const ok = await t.req('PATCH', `/scim/v2/Users/${u.id}`, op, { headers: { 'if-match': u.meta.version } });
    expect(ok.statusCode).toBe(200);
    const star = await t.req('PATCH', `/scim/v2/Users/${u.id}`, patchOp({ op: 'remove', path: 'title' }), { headers: { 'if-match': '*' } });
    expect(star.statusCode).toBe(200);
    expect(star.json()).not.toHaveProperty('title');
  });

  it('a PATCH that changes nothing keeps the version', async () => {
    const u = await mkUser('patch-noop', { title: 'Same' });
    const res = await t.req('PATCH', `/scim/v2/Users/${u.id}`, patchOp({ op: 'replace', path: 'title', value: 'Same' }));
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe(u.meta.version);
  });

  it('honours attributes / excludedAttributes on the response (RFC 7644 §3.9)', async () => {
    const u = await mkUser('patch-proj', { title: 'T', nickName: 'N' });
    const res = await t.req('PATCH', `/scim/v2/Users/${u.id}?attributes=title`, patchOp({ op: 'replace', path: 'nickName', value: 'M' }));
    expect(Object.keys(res.json()).sort()).toEqual(['id', 'schemas', 'title']);
    const ex = await t.req('PATCH', `/scim/v2/Users/${u.id}?excludedAttributes=nickName,meta`, patchOp({ op: 'replace', path: 'nickName', value: 'O' }));
    expect(ex.json()).not.toHaveProperty('nickName');
    expect(ex.json()).toHaveProperty('userName', 'patch-proj');
  });

  it('bad PATCH input is a SCIM 400 with scimType, and the resource is unchanged', async () => {
    const u = await mkUser('patch-bad', { emails: [{ value: 'a@example.com', type: 'work' }] });
    const cases: [unknown, string][] = [
      [{ Operations: [{ op: 'add', path: 'title', value: 'x' }] }, 'invalidSyntax'],
      [patchOp(), 'invalidSyntax'],
      [patchOp({ op: 'merge', path: 'title', value: 'x' }), 'invalidSyntax'],
      [patchOp({ op: 'replace', path: 'emails[value co "nowhere"]', value: { value: 'b@example.com' } }), 'noTarget'],
      [patchOp({ op: 'remove' }), 'noTarget'],
      [patchOp({ op: 'replace', path: 'emails[type eq', value: 'x' }), 'invalidPath'],
      [patchOp({ op: 'replace', path: 'nope', value: 'x' }), 'invalidPath'],
      [patchOp({ op: 'replace', path: 'id', value: 'x' }), 'mutability'],
      [patchOp({ op: 'replace', path: 'active', value: 'maybe' }), 'invalidValue'],
      [patchOp({ op: 'remove', path: 'userName' }), 'invalidValue'],
    ];
    for (const [body, scimType] of cases) {
      const res = await t.req('PATCH', `/scim/v2/Users/${u.id}`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json(), JSON.stringify(body)).toMatchObject({ status: '400', scimType, detail: expect.any(String) });
    }
    const after = (await t.req('GET', `/scim/v2/Users/${u.id}`)).json();
    expect(after.meta.version).toBe(u.meta.version);
    expect(after.emails).toEqual(u.emails);
  });

  it('404 for an unknown id', async () => {
    const res = await t.req('PATCH', '/scim/v2/Users/6a2b4c1e-0000-4000-8000-000000000000', patchOp({ op: 'add', path: 'title', value: 'x' }));
    expect(res.statusCode).toBe(404);
  });
});

describe('PATCH on Groups: membership', () => {
  it('adds and removes members with 204 and the new ETag; the group lists them', async () => {
    const [a, b, c] = [await mkUser('pg-a'), await mkUser('pg-b'), await mkUser('pg-c')];
    const g = await mkGroup('Patch Group', [a.id]);
    const add = await t.req('PATCH', `/scim/v2/Groups/${g.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: b.id }, { value: c.id }] }));
    expect(add.statusCode).toBe(204);
    expect(add.headers.etag).toBe('W/"2"');
    const rm = await t.req('PATCH', `/scim/v2/Groups/${g.id}`, patchOp({ op: 'remove', path: `members[value eq "${a.id}"]` }));
    expect(rm.statusCode).toBe(204);
    const got = (await t.req('GET', `/scim/v2/Groups/${g.id}`)).json();
    expect(got.members.map((m: { value: string }) => m.value)).toEqual([b.id, c.id]);
    expect(got.meta.version).toBe('W/"3"');
    // User side: groups follows the membership table.
    expect((await t.req('GET', `/scim/v2/Users/${b.id}`)).json().groups.map((x: { value: string }) => x.value)).toEqual([g.id]);
  });

  it('replace members, rename with a path-less value, and remove all members', async () => {
    const [a, b] = [await mkUser('pg-r-a'), await mkUser('pg-r-b')];
    const g = await mkGroup('Replace Group', [a.id]);
    await t.req('PATCH', `/scim/v2/Groups/${g.id}`, patchOp({ op: 'replace', value: { displayName: 'Renamed', members: [{ value: b.id }] } }));
    let got = (await t.req('GET', `/scim/v2/Groups/${g.id}`)).json();
    expect(got.displayName).toBe('Renamed');
    expect(got.members.map((m: { value: string }) => m.value)).toEqual([b.id]);
    await t.req('PATCH', `/scim/v2/Groups/${g.id}`, patchOp({ op: 'remove', path: 'members' }));
    got = (await t.req('GET', `/scim/v2/Groups/${g.id}`)).json();
    expect(got).not.toHaveProperty('members');
  });

  it('remove by a members filter other than value (members[display eq …])', async () => {
    const [a, b] = [await mkUser('pg-f-a'), await mkUser('pg-f-b')];
    const g = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Filter Group', members: [{ value: a.id, display: 'pg-f-a' }, { value: b.id }] })).json();
    const res = await t.req('PATCH', `/scim/v2/Groups/${g.id}`, patchOp({ op: 'remove', path: 'members[display eq "PG-F-A"]' }));
    expect(res.statusCode).toBe(204);
    expect((await t.req('GET', `/scim/v2/Groups/${g.id}`)).json().members.map((m: { value: string }) => m.value)).toEqual([b.id]);
    const none = await t.req('PATCH', `/scim/v2/Groups/${g.id}`, patchOp({ op: 'remove', path: 'members[display eq "nobody"]' }));
    expect(none.statusCode).toBe(400);
    expect(none.json()).toMatchObject({ scimType: 'noTarget' });
  });

  it('a member that does not exist is 400 invalidValue and nothing changes', async () => {
    const g = await mkGroup('Ghost Add');
    const res = await t.req('PATCH', `/scim/v2/Groups/${g.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: '6a2b4c1e-0000-4000-8000-000000000000' }] }));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ scimType: 'invalidValue' });
    expect((await t.req('GET', `/scim/v2/Groups/${g.id}`)).json().meta.version).toBe('W/"1"');
  });

  it('?attributes= turns the 204 into a 200 with the projected group', async () => {
    const a = await mkUser('pg-p-a');
    const g = await mkGroup('Proj Group');
    const res = await t.req('PATCH', `/scim/v2/Groups/${g.id}?attributes=members`, patchOp({ op: 'add', path: 'members', value: [{ value: a.id }] }));
    expect(res.statusCode).toBe(200);
    expect(res.json().members.map((m: { value: string }) => m.value)).toEqual([a.id]);
    expect(res.json()).not.toHaveProperty('displayName');
  });
});

describe('PATCH events (RFC 9967 §2.4.2)', () => {
  it('prov:patch:full carries the PatchOp, :notice the changed attributes, and active false adds prov:deactivate', async () => {
    const full = (await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:patch:full`, `${EV}prov:deactivate`] })).json();
    const notice = (await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:patch:notice`] })).json();
    const u = await mkUser('patch-events', { active: true });
    const body = patchOp({ op: 'replace', path: 'active', value: false }, { op: 'add', path: 'title', value: 'Gone' });
    const res = await t.req('PATCH', `/scim/v2/Users/${u.id}`, body);
    expect(res.statusCode).toBe(200);
    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    const claimsOf = async (feed: { stream_id: string; aud: string }) => {
      const polled = (await t.req('POST', `/ssf/streams/${feed.stream_id}/poll`, { returnImmediately: true })).json();
      return Promise.all(Object.values(polled.sets as Record<string, string>).map((j) => verifySet(j, { jwks, issuer: BASE_URL, audience: feed.aud })));
    };
    const fullSets = await claimsOf(full);
    const patchSet = fullSets.find((c) => c.events[`${EV}prov:patch:full`]);
    expect(patchSet?.events[`${EV}prov:patch:full`]).toMatchObject({ data: body, version: 'W/"2"' });
    expect(fullSets.some((c) => c.events[`${EV}prov:deactivate`])).toBe(true);
    const noticeSets = await claimsOf(notice);
    const n = noticeSets.find((c) => c.events[`${EV}prov:patch:notice`])!;
    expect((n.events[`${EV}prov:patch:notice`] as { attributes: string[] }).attributes.sort()).toEqual(['active', 'title']);
    expect(n.events[`${EV}prov:patch:notice`]).not.toHaveProperty('data');
  });
});

describe('PATCH asynchronously and in bulk', () => {
  it('Prefer: respond-async answers 202 and the worker applies the PATCH', async () => {
    const u = await mkUser('patch-async');
    const res = await t.req('PATCH', `/scim/v2/Users/${u.id}`, patchOp({ op: 'add', path: 'title', value: 'Later' }), { headers: { prefer: 'respond-async' } });
    expect(res.statusCode).toBe(202);
    const path = new URL(res.headers.location as string).pathname;
    let status: { status: string; operations?: { status: string; version?: string }[] } = { status: 'pending' };
    for (let i = 0; i < 200 && status.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await t.req('GET', path)).json();
    }
    expect(status.status).toBe('completed');
    expect((await t.req('GET', `/scim/v2/Users/${u.id}`)).json().title).toBe('Later');
  });

  it('a Bulk PATCH operation applies, with version checks and bulkId references in the PatchOp (RFC 7644 §3.7)', async () => {
    const g = await mkGroup('Bulk Patch Group');
    const res = await t.req('POST', '/scim/v2/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u1', data: { schemas: [USER], userName: 'bulk-patch-u1' } },
        { method: 'PATCH', path: `/Groups/${g.id}`, data: patchOp({ op: 'add', path: 'members', value: [{ value: 'bulkId:u1' }] }) },
        { method: 'PATCH', path: `/Groups/${g.id}`, version: 'W/"1"', data: patchOp({ op: 'replace', path: 'displayName', value: 'x' }) },
      ],
    });
    expect(res.statusCode).toBe(200);
    const ops = res.json().Operations;
    expect(ops[1]).toMatchObject({ method: 'PATCH', status: '204', version: 'W/"2"', location: `${BASE_URL}/scim/v2/Groups/${g.id}` });
    expect(ops[2]).toMatchObject({ method: 'PATCH', status: '412' });
    const got = (await t.req('GET', `/scim/v2/Groups/${g.id}`)).json();
    expect(got.members.map((m: { $ref: string }) => m.$ref)).toEqual([ops[0].location]);
    expect(got.displayName).toBe('Bulk Patch Group');
  });
});
