import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';

/**
 * A read reaches PostgreSQL once: the statements each request sends on the app's pool are
 * counted (every statement goes through pool.query or a client checked out with pool.connect),
 * against a real database. A round trip costs more than the statement on a loaded machine.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const MAX_MEMBERS = 3;

let t: TestApp;
const statements: string[] = [];

/** Records the text of every statement the pool sends, from now on. */
function observe(pool: pg.Pool): void {
  const textOf = (q: unknown) => (typeof q === 'string' ? q : ((q as { text?: string } | null)?.text ?? String(q)));
  const query = pool.query.bind(pool) as (...a: unknown[]) => unknown;
  (pool as unknown as { query: unknown }).query = (...a: unknown[]) => {
    statements.push(textOf(a[0]));
    return query(...a);
  };
  // pool.query itself checks a client out with the callback form of connect: left as it is.
  const connect = pool.connect.bind(pool) as (...a: unknown[]) => unknown;
  (pool as unknown as { connect: unknown }).connect = (...a: unknown[]) => {
    if (a.length > 0) return connect(...a);
    return (connect() as Promise<pg.PoolClient>).then((c) => {
      const q = c.query.bind(c) as (...b: unknown[]) => unknown;
      (c as unknown as { query: unknown }).query = (...b: unknown[]) => {
        statements.push(textOf(b[0]));
        return q(...b);
      };
      return c;
    });
  };
}

/** The statements one request sends (the token is verified from memory after the first request). */
async function counted(method: string, url: string): Promise<{ res: Awaited<ReturnType<TestApp['req']>>; sent: string[] }> {
  const from = statements.length;
  const res = await t.req(method, url);
  return { res, sent: statements.slice(from) };
}

let alice: { id: string };
let bob: { id: string };
let big: { id: string };
let small: { id: string };

beforeAll(async () => {
  // No fan-out loop: its polling would share the pool with the requests counted here.
  // The longest token cache: on a busy machine the default 5 s can pass between two tests, and the
  // token's re-verification would then be counted as one of the request's statements.
  t = await startTestApp({ SCIMCAST_MAX_MEMBERS_RETURNED: String(MAX_MEMBERS), SCIMCAST_TOKEN_CACHE_TTL_MS: '60000' }, { fanout: false });
  const mk = async (path: string, body: unknown) => {
    const res = await t.req('POST', path, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };
  alice = await mk('/scim/v2/Users', { schemas: [USER], userName: 'rt-alice', externalId: 'ext-alice' });
  bob = await mk('/scim/v2/Users', { schemas: [USER], userName: 'rt-bob' });
  const others = [];
  for (const n of [1, 2, 3]) others.push(await mk('/scim/v2/Users', { schemas: [USER], userName: `rt-other-${n}` }));
  small = await mk('/scim/v2/Groups', { schemas: [GROUP], displayName: 'RT Small', members: [{ value: alice.id }, { value: bob.id }] });
  big = await mk('/scim/v2/Groups', { schemas: [GROUP], displayName: 'RT Big', members: [alice, ...others].map((u) => ({ value: u.id })) });
  observe(t.database.pool);
  await t.req('GET', '/scim/v2/Users?count=0'); // the token is now in the cache
});
afterAll(async () => {
  await t?.close();
});

const groupRef = (g: { id: string }, display: string) => ({ value: g.id, $ref: `${BASE_URL}/scim/v2/Groups/${g.id}`, type: 'direct', display });

describe('a read is one statement', () => {
  it('GET /Users/{id} of a User in two groups: one statement, with its groups (RFC 7643 §4.1.2)', async () => {
    const { res, sent } = await counted('GET', `/scim/v2/Users/${alice.id}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().groups).toEqual([groupRef(small, 'RT Small'), groupRef(big, 'RT Big')]);
    expect(sent).toHaveLength(1);
  });

  it('GET /Users?filter=userName eq "…": one statement, with totalResults and the groups', async () => {
    const { res, sent } = await counted('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "RT-ALICE"')}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ totalResults: 1, itemsPerPage: 1, startIndex: 1, Resources: [{ id: alice.id, userName: 'rt-alice', groups: [groupRef(small, 'RT Small'), groupRef(big, 'RT Big')] }] });
    expect(sent).toHaveLength(1);
  });

  it('filter externalId eq and id eq: one statement each', async () => {
    for (const filter of ['externalId eq "ext-alice"', `id eq "${alice.id}"`]) {
      const { res, sent } = await counted('GET', `/scim/v2/Users?filter=${encodeURIComponent(filter)}`);
      expect(res.json(), filter).toMatchObject({ totalResults: 1, Resources: [{ id: alice.id }] });
      expect(sent, filter).toHaveLength(1);
    }
  });

  it('an or of two userNames: one statement, both users with their groups', async () => {
    const { res, sent } = await counted('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "rt-bob" or userName eq "RT-Alice"')}`);
    expect(res.json()).toMatchObject({
      totalResults: 2,
      itemsPerPage: 2,
      Resources: [
        { id: alice.id, groups: [groupRef(small, 'RT Small'), groupRef(big, 'RT Big')] },
        { id: bob.id, groups: [groupRef(small, 'RT Small')] },
      ],
    });
    expect(sent).toHaveLength(1);
  });

  it('a filter that matches nothing, and a startIndex past the end: one statement, totalResults still right', async () => {
    const none = await counted('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "nobody"')}`);
    expect(none.res.json()).toMatchObject({ totalResults: 0, itemsPerPage: 0, Resources: [] });
    expect(none.sent).toHaveLength(1);
    const past = await counted('GET', '/scim/v2/Users?startIndex=50&count=2');
    expect(past.res.json()).toMatchObject({ totalResults: 5, itemsPerPage: 0, startIndex: 50, Resources: [] });
    expect(past.sent).toHaveLength(1);
    const zero = await counted('GET', '/scim/v2/Users?count=0');
    expect(zero.res.json()).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    expect(zero.sent).toHaveLength(1);
  });

  it('a page of Users with their groups, then the next pages by cursor (RFC 9865): one statement per page', async () => {
    const first = await counted('GET', '/scim/v2/Users?sortBy=userName&count=2&cursor=');
    expect(first.sent).toHaveLength(1);
    const b1 = first.res.json();
    expect(b1).toMatchObject({ totalResults: 5, itemsPerPage: 2 });
    expect(b1.Resources.map((r: { userName: string }) => r.userName)).toEqual(['rt-alice', 'rt-bob']);
    expect(b1.Resources[0].groups).toEqual([groupRef(small, 'RT Small'), groupRef(big, 'RT Big')]);
    expect(b1.Resources[1].groups).toEqual([groupRef(small, 'RT Small')]);
    expect(b1.previousCursor).toBeUndefined();
    const second = await counted('GET', `/scim/v2/Users?sortBy=userName&count=2&cursor=${encodeURIComponent(b1.nextCursor)}`);
    expect(second.sent).toHaveLength(1);
    const b2 = second.res.json();
    expect(b2.Resources.map((r: { userName: string }) => r.userName)).toEqual(['rt-other-1', 'rt-other-2']);
    expect(b2.Resources[0].groups).toEqual([groupRef(big, 'RT Big')]);
    expect(typeof b2.previousCursor).toBe('string');
    const back = await counted('GET', `/scim/v2/Users?sortBy=userName&count=2&cursor=${encodeURIComponent(b2.previousCursor)}`);
    expect(back.sent).toHaveLength(1);
    expect(back.res.json().Resources.map((r: { userName: string }) => r.userName)).toEqual(['rt-alice', 'rt-bob']);
    expect(back.res.json().previousCursor).toBeUndefined();
    expect(typeof back.res.json().nextCursor).toBe('string');
  });

  it('GET /Groups/{id} of a small group: one statement, with its members', async () => {
    const { res, sent } = await counted('GET', `/scim/v2/Groups/${small.id}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().members.map((m: { value: string }) => m.value)).toEqual([alice.id, bob.id]);
    expect(sent).toHaveLength(1);
  });

  it('GET /Groups/{id} of a group over SCIMCAST_MAX_MEMBERS_RETURNED: still refused with tooMany, in one statement', async () => {
    const { res, sent } = await counted('GET', `/scim/v2/Groups/${big.id}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: '400', scimType: 'tooMany' });
    expect(sent).toHaveLength(1);
    const without = await counted('GET', `/scim/v2/Groups/${big.id}?excludedAttributes=members`);
    expect(without.res.statusCode).toBe(200);
    expect(without.res.json()).not.toHaveProperty('members');
    expect(without.sent).toHaveLength(1);
  });

  it('a User asked without its groups reads no membership', async () => {
    const { res, sent } = await counted('GET', `/scim/v2/Users/${alice.id}?excludedAttributes=groups`);
    expect(res.json()).not.toHaveProperty('groups');
    expect(sent).toHaveLength(1);
    expect(sent[0]).not.toMatch(/group_members/);
  });

  it('a missing id: one statement, 404', async () => {
    const { res, sent } = await counted('GET', '/scim/v2/Users/00000000-0000-4000-8000-000000000000');
    expect(res.statusCode).toBe(404);
    expect(sent).toHaveLength(1);
  });
});

describe('prepared reads after a migration adds a column', () => {
  it('GET /Users/{id}, GET /Groups/{id} and a filtered list answer the same before and after ALTER TABLE resources ADD COLUMN, on the same running app', async () => {
    const urls = [`/scim/v2/Users/${alice.id}`, `/scim/v2/Groups/${small.id}`, `/scim/v2/Users?filter=${encodeURIComponent('userName eq "rt-alice"')}`];
    const before = [];
    // Several times each: the pool's connections have prepared their statements by then.
    for (let i = 0; i < 3; i++) for (const url of urls) before.push(await t.req('GET', url));
    const admin = new pg.Client({ connectionString: t.dbUrl });
    await admin.connect();
    try {
      await admin.query('alter table resources add column extra text');
      for (let i = 0; i < 3; i++) {
        for (const [j, url] of urls.entries()) {
          const res = await t.req('GET', url);
          expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
          expect(res.json()).toEqual(before[j]!.json());
        }
      }
    } finally {
      await admin.query('alter table resources drop column if exists extra');
      await admin.end();
    }
  });
});
