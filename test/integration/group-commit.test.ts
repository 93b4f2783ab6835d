import { randomUUID } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import type { SetClaims } from '../../src/events/claims.js';
import { BASE_URL, useTestApp } from '../helpers/app.js';
import { pollAll } from '../helpers/sets.js';

/**
 * Concurrent single writes share commits (docs/decisions/0002-group-commit.md): creates that arrive
 * together are stored by one statement, async admissions likewise. Each request still gets its own
 * answer: one that fails (a taken userName, a stale If-Match, a body the schema refuses) fails alone
 * and changes nothing, and every other request of the same window commits with its own Location,
 * ETag and SETs.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const CREATE_NOTICE = 'urn:ietf:params:scim:event:prov:create:notice';
const PATCH_NOTICE = 'urn:ietf:params:scim:event:prov:patch:notice';
const ASYNCRESP = 'urn:ietf:params:scim:event:misc:asyncresp';

// A real graphile-worker runner applies the async requests and fans the changes out.
const t = useTestApp({}, { worker: true });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jwks = async () => (await t.req('GET', '/jwks.json', undefined, { auth: null })).json() as JSONWebKeySet;
const drain = async (streamId: string): Promise<SetClaims[]> => pollAll(async (body) => (await t.req('POST', `/ssf/streams/${streamId}/poll`, body)).json(), await jwks());

describe('one window of concurrent writes', () => {
  it('a taken userName, a stale If-Match and a schema error each fail alone; the rest commit with their own Location, ETag and SETs', async () => {
    const stream = (await t.req('POST', '/ssf/streams', { events_requested: [CREATE_NOTICE, PATCH_NOTICE, ASYNCRESP] })).json() as { stream_id: string };
    expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'already.taken' })).statusCode).toBe(201);
    const group = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'window' })).json() as { id: string };
    const member = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'to.be.member' })).json() as { id: string };
    await drain(stream.stream_id);

    const names = Array.from({ length: 40 }, (_, i) => `window.${i}`);
    const asyncNames = Array.from({ length: 8 }, (_, i) => `async.${i}`);
    const [creates, taken, twice, stale, schemaError, patched, admitted] = await Promise.all([
      Promise.all(names.map((userName) => t.req('POST', '/scim/v2/Users', { schemas: [USER], userName, externalId: `ext-${userName}` }))),
      // RFC 7643 §4.1: userName is unique without regard to case.
      t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'ALREADY.taken' }),
      // Two creates of one new name in the same window: the first stored wins, the other is 409.
      Promise.all([t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'twice' }), t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'Twice' })]),
      t.req('PATCH', `/scim/v2/Groups/${group.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'never' }] }, { headers: { 'if-match': 'W/"99"' } }),
      t.req('POST', '/scim/v2/Users', { schemas: [USER], displayName: 'no userName' }),
      t.req('PATCH', `/scim/v2/Groups/${group.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: member.id }] }] }, { headers: { 'if-match': 'W/"1"' } }),
      Promise.all(asyncNames.map((userName) => t.req('POST', '/scim/v2/Users', { schemas: [USER], userName }, { headers: { prefer: 'respond-async' } }))),
    ]);

    // Every create of the window: 201, its own id in Location, ETag and meta.version W/"1".
    const ids = new Set<string>();
    for (const [i, res] of creates.entries()) {
      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(body.userName).toBe(names[i]);
      expect(res.headers.location).toBe(`${BASE_URL}/scim/v2/Users/${body.id}`);
      expect(body.meta.location).toBe(res.headers.location);
      expect(res.headers.etag).toBe('W/"1"');
      ids.add(body.id);
      const read = await t.req('GET', `/scim/v2/Users/${body.id}`);
      expect(read.json()).toMatchObject({ userName: names[i], externalId: `ext-${names[i]}` });
    }
    expect(ids.size).toBe(names.length);

    // The failures: a SCIM error each (RFC 7644 §3.12), and nothing of theirs stored.
    const scimError = (res: (typeof creates)[number], status: number, scimType?: string) => {
      expect(res.statusCode).toBe(status);
      expect(res.json()).toMatchObject({ schemas: [ERROR], status: String(status), ...(scimType ? { scimType } : {}) });
      expect(typeof res.json().detail).toBe('string');
    };
    scimError(taken, 409, 'uniqueness');
    expect(twice.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    scimError(twice.find((r) => r.statusCode === 409)!, 409, 'uniqueness');
    scimError(stale, 412);
    scimError(schemaError, 400);
    const stored = await t.database.pool.query<{ user_name: string }>(`select user_name from resources where lower(user_name) in ('already.taken', 'twice')`);
    expect(stored.rows.map((r) => r.user_name).sort()).toEqual(['already.taken', twice.find((r) => r.statusCode === 201)!.json().userName]);

    // The good PATCH of the same window: its next version, the member in, the stale one's change absent.
    expect(patched.statusCode).toBe(204);
    const g = (await t.req('GET', `/scim/v2/Groups/${group.id}`)).json();
    expect(g).toMatchObject({ displayName: 'window', members: [{ value: member.id }], meta: { version: 'W/"2"' } });

    // The async admissions: 202 each, its own Set-Txn, and each completes.
    const txns = admitted.map((r) => {
      expect(r.statusCode).toBe(202);
      return r.headers['set-txn'] as string;
    });
    expect(new Set(txns).size).toBe(asyncNames.length);
    for (const r of admitted) {
      for (let i = 0; ; i++) {
        const st = (await t.req('GET', new URL(r.headers.location as string).pathname)).json();
        if (st.status === 'completed') break;
        if (i > 400) throw new Error(`async request ${r.headers.location} did not complete`);
        await sleep(50);
      }
    }

    // Group commit really happened: some creates of the window share one transaction.
    const xmins = await t.database.pool.query<{ n: number }>(`select count(distinct xmin::text)::int n from resources where user_name like 'window.%'`);
    expect(xmins.rows[0]!.n).toBeLessThan(names.length);

    // SETs: one create notice per stored resource, with its own subject; none for what failed.
    let sets: SetClaims[] = [];
    for (let i = 0; i < 100 && sets.filter((s) => s.events[CREATE_NOTICE]).length < names.length + 1 + asyncNames.length; i++) {
      sets = [...sets, ...(await drain(stream.stream_id))];
      await sleep(50);
    }
    const created = sets.filter((s) => s.events[CREATE_NOTICE]).map((s) => (s as unknown as { sub_id: { uri: string } }).sub_id.uri);
    expect(new Set(created).size).toBe(created.length);
    for (const id of ids) expect(created).toContain(`/Users/${id}`);
    expect(created).toHaveLength(names.length + 1 + asyncNames.length);
    expect(sets.filter((s) => s.events[PATCH_NOTICE]).map((s) => (s as unknown as { sub_id: { uri: string } }).sub_id.uri)).toEqual([`/Groups/${group.id}`]);
    expect(sets.filter((s) => s.events[ASYNCRESP]).map((s) => (s as unknown as { txn: string }).txn).sort()).toEqual([...txns].sort());
  });

  it('member adds of one window: each answers with its own ETag, a stale If-Match and a missing member fail alone, two adds to one group both land', async () => {
    const stream = (await t.req('POST', '/ssf/streams', { events_requested: [PATCH_NOTICE] })).json() as { stream_id: string };
    const groups: string[] = [];
    for (let i = 0; i < 18; i++) groups.push((await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: `adds-${i}` })).json().id);
    const users: string[] = [];
    for (let i = 0; i < 20; i++) users.push((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `adds.member.${i}` })).json().id);
    await drain(stream.stream_id);
    const add = (group: string, ids: string[], headers: Record<string, string> = {}) =>
      t.req('PATCH', `/scim/v2/Groups/${group}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }] }, { headers });
    const ghost = randomUUID();
    const [singles, double, stale, missing] = await Promise.all([
      Promise.all(groups.slice(0, 16).map((g, i) => add(g, [users[i]!], { 'if-match': 'W/"1"' }))),
      Promise.all([add(groups[16]!, [users[16]!]), add(groups[16]!, [users[17]!])]),
      add(groups[17]!, [users[18]!], { 'if-match': 'W/"99"' }),
      add(groups[17]!, [users[19]!, ghost]),
    ]);

    for (const res of singles) {
      expect(res.statusCode, res.body).toBe(204);
      expect(res.headers.etag).toBe('W/"2"');
    }
    expect(double.map((r) => r.statusCode)).toEqual([204, 204]);
    expect(double.map((r) => r.headers.etag).sort()).toEqual(['W/"2"', 'W/"3"']);
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ schemas: [ERROR], status: '412' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidValue', detail: expect.stringContaining(ghost) });

    const membersOf = async (g: string) => (await t.req('GET', `/scim/v2/Groups/${g}`)).json() as { members?: { value: string }[]; meta: { version: string } };
    for (let i = 0; i < 16; i++) expect(await membersOf(groups[i]!)).toMatchObject({ members: [{ value: users[i] }], meta: { version: 'W/"2"' } });
    const both = await membersOf(groups[16]!);
    expect(both.members!.map((m) => m.value).sort()).toEqual([users[16], users[17]].sort());
    expect(both.meta.version).toBe('W/"3"');
    const untouched = await membersOf(groups[17]!);
    expect(untouched.members).toBeUndefined();
    expect(untouched.meta.version).toBe('W/"1"');

    // Group commit really happened: some adds of the window share one transaction.
    const xmins = await t.database.pool.query<{ n: number }>(`select count(distinct xmin::text)::int n from group_members where group_id = any($1::uuid[])`, [groups.slice(0, 16)]);
    expect(xmins.rows[0]!.n).toBeLessThan(16);

    // One patch notice per add that changed a group, with the group as its subject; none for the failures.
    let sets: SetClaims[] = [];
    for (let i = 0; i < 100 && sets.length < 18; i++) {
      sets = [...sets, ...(await drain(stream.stream_id))];
      await sleep(50);
    }
    const subjects = sets.filter((x) => x.events[PATCH_NOTICE]).map((x) => (x as unknown as { sub_id: { uri: string } }).sub_id.uri);
    expect(subjects.sort()).toEqual([...groups.slice(0, 16), groups[16], groups[16]].map((g) => `/Groups/${g}`).sort());
  });
});
