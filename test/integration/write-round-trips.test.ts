import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResource } from '../../src/provisioning/write.js';
import { patchResource } from '../../src/provisioning/patch.js';
import type { ChangeRow } from '../../src/storage/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let t: TestApp;
beforeAll(async () => {
  // No fan-out loop: nothing but the request under test talks to the database while it runs, and
  // the outbox rows stay in `changes` for the test to read.
  t = await startTestApp({}, { fanout: false });
  // A first authenticated request, so that later ones find the token cache started.
  await t.req('GET', '/scim/v2/Users?count=1');
});
afterAll(async () => {
  await t?.close();
});

/**
 * The statements every pg client of this process sends while `f` runs, observed on the real
 * driver. Authentication's statements (token lookup, its revocation LISTEN) are left out: it has
 * its own bound and its own tests. So is the announcement that wakes the fan-out after the commit
 * (storage/announce.ts): it is not part of the request's answer, and under load one covers many
 * commits; it is checked to come after the write, never inside it.
 */
async function statementsOf<T>(f: () => Promise<T>): Promise<{ result: T; sql: string[] }> {
  const original = pg.Client.prototype.query;
  const sql: string[] = [];
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const q = args[0] as string | { text: string };
    sql.push((typeof q === 'string' ? q : q.text).replace(/\s+/g, ' ').trim());
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    const result = await f();
    await new Promise((r) => setTimeout(r, 50));
    const kept = sql.filter((s) => !/"api_tokens"|scimcast_tokens/.test(s));
    const announcement = kept.findIndex((s) => /pg_notify/.test(s));
    // No write statement carries a NOTIFY: the announcement is its own statement, after the write.
    if (announcement !== -1) expect(kept.slice(announcement)).toEqual([expect.stringMatching(/^select set_config\('synchronous_commit', 'off', true\), pg_notify/)]);
    return { result, sql: kept.filter((s) => !/pg_notify/.test(s)) };
  } finally {
    pg.Client.prototype.query = original;
  }
}

const waiting = async (): Promise<ChangeRow[]> => t.deps.storage.changes.oldest(10_000);
const of = (rows: ChangeRow[], subject: string) => rows.filter((r) => r.subjectUri === subject);
/** What a receiver can tell apart: everything but the row's own id, time and originating transaction. */
const comparable = (r: ChangeRow, id: string, otherId: string) =>
  JSON.parse(JSON.stringify({ kind: r.kind, resourceType: r.resourceType, subjectUri: r.subjectUri, subject: r.subject, uris: r.uris, opIndex: r.opIndex, owner: r.owner, feedId: r.feedId, data: r.data }).replaceAll(otherId, id));
const addMembers = (ids: string[]) => ({ schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }] });
const user = async (userName: string): Promise<string> => (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName })).json().id;

describe('a synchronous create is one statement', () => {
  it('POST /Users reaches PostgreSQL once, with no BEGIN/COMMIT, and stores the resource and its outbox row', async () => {
    const { result: res, sql } = await statementsOf(() => t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'one.trip', externalId: 'ext-1' }));
    expect(res.statusCode).toBe(201);
    expect(sql).toHaveLength(1);
    expect(sql.some((s) => /^(begin|commit)$/i.test(s))).toBe(false);
    const id = res.json().id;
    expect((await t.req('GET', `/scim/v2/Users/${id}`)).json()).toMatchObject({ userName: 'one.trip', externalId: 'ext-1', meta: { version: 'W/"1"' } });
    expect(of(await waiting(), `/Users/${id}`)).toHaveLength(1);
  });

  it('POST /Groups without members reaches PostgreSQL once', async () => {
    const { result: res, sql } = await statementsOf(() => t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'One Trip' }));
    expect(res.statusCode).toBe(201);
    expect(res.json()).not.toHaveProperty('members');
    expect(sql).toHaveLength(1);
  });

  it('stores the same outbox row as the transactional path', async () => {
    const body = { schemas: [USER], userName: 'same.row', externalId: 'ext-same', name: { givenName: 'Same' }, password: 'not-in-any-set-1', active: true };
    const fast = await createResource(t.deps.provisioning, 'User', body);
    const slow = await createResource({ ...t.deps.provisioning, outboxRows: undefined }, 'User', { ...body, userName: 'same.row.2' });
    const rows = await waiting();
    const [a] = of(rows, `/Users/${fast.id}`);
    const [b] = of(rows, `/Users/${slow.id}`);
    expect(a && b).toBeTruthy();
    const expected = comparable(b!, fast.id, slow.id);
    expected.data.data.userName = 'same.row';
    expected.data.data.meta.created = (a!.data as { data: { meta: { created: string } } }).data.meta.created;
    expected.data.data.meta.lastModified = (a!.data as { data: { meta: { lastModified: string } } }).data.meta.lastModified;
    expect(comparable(a!, fast.id, fast.id)).toEqual(expected);
    expect(JSON.stringify(a)).not.toContain('not-in-any-set-1');
  });

  it('a userName in use (in another case) is 409 uniqueness, and nothing is stored: no resource, no outbox row', async () => {
    await user('Taken.Name');
    const before = await waiting();
    const { result: res, sql } = await statementsOf(() => t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'taken.name' }));
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', scimType: 'uniqueness' });
    expect(sql).toHaveLength(1);
    expect((await waiting()).map((r) => r.id)).toEqual(before.map((r) => r.id));
    const list = (await t.req('GET', '/scim/v2/Users?filter=' + encodeURIComponent('userName eq "taken.name"'))).json();
    expect(list.totalResults).toBe(1);
  });
});

describe('adding a member to a large group', () => {
  let group: string;
  beforeAll(async () => {
    // 20,000 members, stored directly: the statements of a member add do not depend on the size.
    const now = new Date();
    const ids = Array.from({ length: 20_000 }, () => randomUUID());
    await t.deps.storage.resources.insertMany(
      ids.map((id, i) => ({ id, resourceType: 'User', userName: `big-${i}`, externalId: null, displayName: null, active: null, doc: { schemas: [USER], userName: `big-${i}` }, version: 1, created: now, lastModified: now })),
    );
    group = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Big', externalId: 'big-ext' })).json().id;
    await t.deps.storage.members.add(group, { ids });
  }, 60_000);

  it('takes two statements and no BEGIN/COMMIT; answers 204 with the next version and records one change naming members', async () => {
    const u = await user('joins.big');
    const before = await waiting();
    const { result: res, sql } = await statementsOf(() => t.req('PATCH', `/scim/v2/Groups/${group}`, addMembers([u]), { headers: { 'if-match': 'W/"1"' } }));
    expect(res.statusCode).toBe(204);
    expect(res.headers.etag).toBe('W/"2"');
    expect(sql).toHaveLength(2);
    expect(sql.some((s) => /^(begin|commit)$/i.test(s))).toBe(false);
    const added = (await waiting()).filter((r) => !before.some((b) => b.id === r.id));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ subjectUri: `/Groups/${group}`, subject: { format: 'scim', uri: `/Groups/${group}`, id: group, externalId: 'big-ext' } });
    expect(added[0]!.data).toMatchObject({ attributes: ['members'], version: 'W/"2"', data: addMembers([u]) });
    const found = (await t.req('GET', '/scim/v2/Groups?filter=' + encodeURIComponent(`id eq "${group}" and members.value eq "${u}"`) + '&excludedAttributes=members')).json();
    expect(found.totalResults).toBe(1);
  });

  it('stores the same outbox row as the transactional path', async () => {
    const g1 = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Same A', externalId: 'same-ext' })).json().id;
    const g2 = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Same A', externalId: 'same-ext' })).json().id;
    const u = await user('same.member');
    await patchResource(t.deps.provisioning, 'Group', g1, addMembers([u]));
    await patchResource({ ...t.deps.provisioning, outboxRows: undefined }, 'Group', g2, addMembers([u]));
    const rows = await waiting();
    const [a] = of(rows, `/Groups/${g1}`).filter((r) => r.uris.some((x) => x.includes('patch')));
    const [b] = of(rows, `/Groups/${g2}`).filter((r) => r.uris.some((x) => x.includes('patch')));
    expect(comparable(a!, g1, g1)).toEqual(comparable(b!, g1, g2));
  });

  it('a member that does not exist is 400 invalidValue and changes nothing', async () => {
    const u = await user('real.one');
    const ghost = randomUUID();
    const before = await waiting();
    const version = (await t.req('GET', `/scim/v2/Groups/${group}?excludedAttributes=members`)).headers.etag;
    const res = await t.req('PATCH', `/scim/v2/Groups/${group}`, addMembers([u, ghost]));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidValue', detail: expect.stringContaining(ghost) });
    expect((await t.req('GET', `/scim/v2/Groups/${group}?excludedAttributes=members`)).headers.etag).toBe(version);
    expect((await waiting()).length).toBe(before.length);
    const found = (await t.req('GET', '/scim/v2/Groups?filter=' + encodeURIComponent(`id eq "${group}" and members.value eq "${u}"`) + '&excludedAttributes=members')).json();
    expect(found.totalResults).toBe(0);
  });

  it('a stale If-Match is 412 and changes nothing', async () => {
    const u = await user('late.one');
    const before = await waiting();
    const res = await t.req('PATCH', `/scim/v2/Groups/${group}`, addMembers([u]), { headers: { 'if-match': 'W/"1"' } });
    expect(res.statusCode).toBe(412);
    expect((await waiting()).length).toBe(before.length);
  });

  it('adding a member already there changes nothing: same version, no event', async () => {
    const u = await user('twice.member');
    expect((await t.req('PATCH', `/scim/v2/Groups/${group}`, addMembers([u]))).statusCode).toBe(204);
    const version = (await t.req('GET', `/scim/v2/Groups/${group}?excludedAttributes=members`)).headers.etag;
    const before = await waiting();
    const res = await t.req('PATCH', `/scim/v2/Groups/${group}`, addMembers([u]));
    expect(res.statusCode).toBe(204);
    expect(res.headers.etag).toBe(version);
    expect((await waiting()).length).toBe(before.length);
  });

  it('concurrent adds to one group each commit once, with consecutive versions and one change each', async () => {
    const g = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Contended' })).json().id;
    const users = await Promise.all(Array.from({ length: 12 }, (_, i) => user(`contender-${i}`)));
    const results = await Promise.all(users.map((u) => t.req('PATCH', `/scim/v2/Groups/${g}`, addMembers([u]))));
    expect(results.map((r) => r.statusCode)).toEqual(users.map(() => 204));
    expect(results.map((r) => r.headers.etag).sort()).toEqual(users.map((_, i) => `W/"${i + 2}"`).sort());
    const rows = of(await waiting(), `/Groups/${g}`).filter((r) => r.uris.some((x) => x.includes('patch')));
    expect(rows.map((r) => (r.data as { version: string }).version).sort()).toEqual(users.map((_, i) => `W/"${i + 2}"`).sort());
    const members = (await t.req('GET', `/scim/v2/Groups/${g}`)).json().members.map((m: { value: string }) => m.value);
    expect(members.sort()).toEqual([...users].sort());
  });
});

describe('the next add to a group this process wrote', () => {
  const add = (group: string, ids: string[], headers: Record<string, string> = {}) =>
    t.req('PATCH', `/scim/v2/Groups/${group}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }] }, { headers });
  const newGroup = async (displayName: string) => (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName, externalId: `${displayName}-ext` })).json().id as string;
  const membersOf = async (group: string) => ((await t.req('GET', `/scim/v2/Groups/${group}`)).json().members ?? []).map((m: { value: string }) => m.value);
  /** Another process's write, as this process cannot see it: the version goes up, the document changes. */
  const writtenElsewhere = (group: string) =>
    t.database.pool.query(`update resources set version = version + 1, external_id = 'changed-elsewhere', doc = doc || '{"externalId":"changed-elsewhere"}' where id = $1`, [group]);

  it('is one statement: the group as the last add left it is not read again', async () => {
    const group = await newGroup('hinted');
    expect((await add(group, [await user('hint.first')])).headers.etag).toBe('W/"2"');
    const u = await user('hint.second');
    const { result: res, sql } = await statementsOf(() => add(group, [u]));
    expect(res.statusCode).toBe(204);
    expect(res.headers.etag).toBe('W/"3"');
    expect(sql).toHaveLength(1);
    expect(await membersOf(group)).toContain(u);
  });

  it('after a remove on the locking path, the next add is one statement with the next version', async () => {
    const group = await newGroup('after-remove');
    const [a, b] = [await user('remove.a'), await user('remove.b')];
    await add(group, [a]);
    const removed = await t.req('PATCH', `/scim/v2/Groups/${group}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${a}"]` }] });
    expect(removed.headers.etag).toBe('W/"3"');
    const { result: res, sql } = await statementsOf(() => add(group, [b]));
    expect(res.headers.etag).toBe('W/"4"');
    expect(sql).toHaveLength(1);
    expect(await membersOf(group)).toEqual([b]);
  });

  it('a group written elsewhere meanwhile: the add still lands on the stored version, and its SET names the stored externalId', async () => {
    const group = await newGroup('stale-hint');
    await add(group, [await user('stale.first')]);
    await writtenElsewhere(group);
    const u = await user('stale.second');
    const before = await waiting();
    const { result: res, sql } = await statementsOf(() => add(group, [u]));
    expect(res.statusCode, res.body).toBe(204);
    expect(res.headers.etag).toBe('W/"4"');
    // The statement on the hint wrote nothing; the group was read and written again.
    expect(sql).toHaveLength(3);
    const added = (await waiting()).filter((r) => !before.some((x) => x.id === r.id));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ subject: { externalId: 'changed-elsewhere' }, data: { version: 'W/"4"' } });
    expect(await membersOf(group)).toContain(u);
  });

  it("an If-Match that only the stored group matches is not refused on the hint's say-so; one that neither matches is 412", async () => {
    const group = await newGroup('if-match-hint');
    await add(group, [await user('ifm.first')]);
    await writtenElsewhere(group);
    const ok = await add(group, [await user('ifm.second')], { 'if-match': 'W/"3"' });
    expect(ok.statusCode, ok.body).toBe(204);
    expect(ok.headers.etag).toBe('W/"4"');
    const refused = await add(group, [await user('ifm.third')], { 'if-match': 'W/"2"' });
    expect(refused.statusCode).toBe(412);
    expect(refused.json()).toMatchObject({ status: '412' });
  });

  it('a group deleted meanwhile is 404, whatever this process remembered of it', async () => {
    const group = await newGroup('deleted-hint');
    await add(group, [await user('deleted.first')]);
    await t.database.pool.query('delete from resources where id = $1', [group]);
    const res = await add(group, [await user('deleted.second')]);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ status: '404' });
  });
});
