import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { BULK_REQUEST, GROUP, PATCH_OP, USER } from './support.js';

/**
 * Input-sized arrays. The bulk payload limit (SCIMCAST_BULK_MAX_PAYLOAD_SIZE, 16 MiB) admits
 * some 150,000 small array elements in one operation's data. Such an array must be stored or
 * refused with a SCIM 4xx: never a stack overflow from spreading it into a call's arguments
 * (`push(...arr)`: one argument per element), never a statement with more bind parameters than
 * PostgreSQL's 65,535, never a loop that compares each element with every other.
 */
const N = 150_000;
/** Per test: seconds of work when linear, hours when quadratic; generous for a loaded machine. */
const SLOW = 180_000;

let t: TestApp;
let userIds: string[];
beforeAll(async () => {
  t = await startTestApp();
  // The users exist before the test; creating 150,000 through the API is not what is tested here.
  await t.database.pool.query(
    `insert into resources (id, resource_type, user_name, doc, version, created, last_modified)
     select gen_random_uuid(), 'User', 'user-' || i, jsonb_build_object('schemas', jsonb_build_array($2::text), 'userName', 'user-' || i), 1, now(), now()
     from generate_series(1, $1::int) i`,
    [N, USER],
  );
  userIds = (await t.database.pool.query<{ id: string }>(`select id from resources where resource_type = 'User' order by user_name`)).rows.map((r) => r.id);
}, SLOW);
afterAll(async () => {
  await t?.close();
});

const bulk = async (Operations: unknown[]) => {
  const res = await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK_REQUEST], Operations });
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  return res.json().Operations as { status: string; location?: string; response?: { scimType?: string; detail?: string } }[];
};

/** Members of a group as a client sees them: the users whose `groups` name it. */
const memberCount = async (groupId: string) =>
  (await t.req('GET', `/scim/v2/Users?count=0&filter=${encodeURIComponent(`groups.value eq "${groupId}"`)}`)).json().totalResults as number;

describe('a bulk operation whose data holds 150,000 elements', () => {
  it('as the whole data, or as the values of an attribute of the wrong type, is a 400 for that operation', async () => {
    const ones = Array.from({ length: N }, () => 1);
    const ops = await bulk([
      { method: 'POST', path: '/Users', bulkId: 'a', data: ones },
      { method: 'POST', path: '/Users', bulkId: 'b', data: { schemas: [USER], userName: 'many-numbers', emails: ones } },
    ]);
    expect(ops.map((o) => o.status)).toEqual(['400', '400']);
    expect(ops.map((o) => o.response?.scimType)).toEqual(['invalidSyntax', 'invalidValue']);
  }, SLOW);

  it('as 150,000 emails of a new user, or 30,000 more added by PATCH (some already there), is stored', async () => {
    const emails = Array.from({ length: N }, (_, i) => ({ value: `e${i}@example.com` }));
    const [created] = await bulk([{ method: 'POST', path: '/Users', bulkId: 'u', data: { schemas: [USER], userName: 'many-emails', emails } }]);
    expect(created!.status).toBe('201');
    const id = created!.location!.split('/').pop()!;
    const more = Array.from({ length: N / 5 }, (_, i) => ({ value: `f${i}@example.com` }));
    const [patched] = await bulk([{ method: 'PATCH', path: `/Users/${id}`, data: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'emails', value: [...more, ...emails.slice(0, 10)] }] } }]);
    expect(patched!.status).toBe('200');
    const user = (await t.req('GET', `/scim/v2/Users/${id}?attributes=emails`)).json();
    expect(user.emails).toHaveLength(N + N / 5);
  }, SLOW);

  it('as 150,000 values a value filter selects, replaced and then removed by PATCH, is handled', async () => {
    const emails = Array.from({ length: N }, (_, i) => ({ value: `w${i}@example.com`, type: 'work' }));
    const [created] = await bulk([{ method: 'POST', path: '/Users', bulkId: 'w', data: { schemas: [USER], userName: 'many-work-emails', emails: [...emails, { value: 'home@example.com', type: 'home' }] } }]);
    expect(created!.status).toBe('201');
    const path = `/Users/${created!.location!.split('/').pop()!}`;
    const patch = (op: Record<string, unknown>) => bulk([{ method: 'PATCH', path, data: { schemas: [PATCH_OP], Operations: [op] } }]);
    expect((await patch({ op: 'replace', path: 'emails[type eq "work"]', value: { value: 'w@example.com', type: 'work' } }))[0]!.status).toBe('200');
    expect((await patch({ op: 'remove', path: 'emails[type eq "work"]' }))[0]!.status).toBe('200');
    const user = (await t.req('GET', `/scim/v2${path}?attributes=emails`)).json();
    expect(user.emails).toEqual([{ value: 'home@example.com', type: 'home' }]);
  }, SLOW);

  it('as the 150,000 members of a new group, or of a PATCH add and remove, is stored', async () => {
    const members = userIds.map((value) => ({ value }));
    const [created] = await bulk([{ method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'everyone', members } }]);
    expect(created!.status, JSON.stringify(created)).toBe('201');
    const full = created!.location!.split('/').pop()!;
    expect(await memberCount(full)).toBe(N);

    const empty = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'filled later' })).json().id as string;
    const [added] = await bulk([{ method: 'PATCH', path: `/Groups/${empty}`, data: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: members }] } }]);
    expect(added!.status).toBe('204');
    expect(await memberCount(empty)).toBe(N);
    const [removed] = await bulk([{ method: 'PATCH', path: `/Groups/${empty}`, data: { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members', value: members.slice(10) }] } }]);
    expect(removed!.status).toBe('204');
    expect(await memberCount(empty)).toBe(10);
  }, SLOW);
});

describe('an operator request naming 100,000 SETs', () => {
  it('a redrive by a list of jtis answers how many it requeued (none here), not a broken connection', async () => {
    const stream = (await t.req('POST', '/ssf/streams', { events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] })).json().stream_id;
    const jti = Array.from({ length: 100_000 }, (_, i) => i.toString(36));
    const res = await t.req('POST', `/ssf/streams/${stream}/redrive`, { jti }, { headers: { 'content-type': 'application/json' } });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.json()).toEqual({ stream_id: stream, redriven: 0 });
  }, SLOW);
});
