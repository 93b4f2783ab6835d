import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobHelpers } from 'graphile-worker';
import { loadConfig } from '../../src/config/load.js';
import { makeDb } from '../../src/storage/db.js';
import { migrateDatabase } from '../../src/storage/migrate.js';
import { makePrune } from '../../src/worker/tasks/prune.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { expectScimClientError, GROUP, PATCH_OP, snapshot, USER } from './support.js';

/**
 * Bounds on what one request may cost the database. SCIMCAST_STATEMENT_TIMEOUT_MS cancels any
 * statement that runs longer, so a pathological filter or a lock held elsewhere cannot hold a
 * pooled connection for minutes; a cancelled list query is 400 tooMany (only a narrower filter
 * helps, RFC 7644 §3.4.2.4), any other cancelled statement 503 with Retry-After. Maintenance
 * (migrations, prune) is not bounded. SCIMCAST_MAX_MEMBERS_RETURNED bounds the members one
 * response carries.
 */
const TIMEOUT_MS = 1_000;
const SEEDED = 100_000;

/** A connection without the statement timeout, for fixtures and for holding locks. */
async function rawClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

describe(`SCIMCAST_STATEMENT_TIMEOUT_MS=${TIMEOUT_MS}`, () => {
  let t: TestApp;
  let fixtures: pg.Client;
  let userId: string;
  beforeAll(async () => {
    t = await startTestApp({ SCIMCAST_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS) });
    fixtures = await rawClient(t.dbUrl);
    // Users with a title, an attribute no index covers: a substring filter on it reads every row.
    await fixtures.query(
      `insert into resources (id, resource_type, user_name, doc, version, created, last_modified)
       select gen_random_uuid(), 'User', 'user-' || i, jsonb_build_object('schemas', jsonb_build_array($2::text), 'userName', 'user-' || i, 'title', 'Title number ' || i), 1, now(), now()
       from generate_series(1, $1::int) i`,
      [SEEDED, USER],
    );
    await fixtures.query('analyze resources');
    userId = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'bjensen' })).json().id;
  }, 120_000);
  afterAll(async () => {
    await fixtures?.end();
    await t?.close();
  });

  /** 150 substring terms on an unindexed attribute over 100,000 users: seconds of work, every time. */
  const slowFilter = Array.from({ length: 150 }, (_, i) => `title co "x${i}y"`).join(' or ');

  it('a filter that runs past it is 400 tooMany, answered when the timeout fires, not when the query would end', async () => {
    for (const send of [
      () => t.req('GET', `/scim/v2/Users?filter=${encodeURIComponent(slowFilter)}`),
      () => t.req('POST', '/scim/v2/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: slowFilter }),
    ]) {
      const started = Date.now();
      const res = await send();
      const took = Date.now() - started;
      expectScimClientError(res, 'slow filter');
      expect(res.json()).toMatchObject({ status: '400', scimType: 'tooMany' });
      expect(res.json().detail).toMatch(/took longer than this server allows/);
      expect(took).toBeLessThan(TIMEOUT_MS * 20);
    }
  });

  it('the pool keeps working afterwards: more requests than connections, all answered', async () => {
    await Promise.all(Array.from({ length: 3 }, () => t.req('GET', `/scim/v2/Users?filter=${encodeURIComponent(slowFilter)}`)));
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => t.req('GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "user-${i + 1}"`)}`)));
    expect(answers.map((r) => r.statusCode)).toEqual(answers.map(() => 200));
    expect(answers.map((r) => r.json().totalResults)).toEqual(answers.map(() => 1));
  });

  it('a write that waits past it on a lock held elsewhere is 503 with Retry-After, changes nothing, and succeeds once the lock is gone', async () => {
    const before = await snapshot(t);
    const holder = await rawClient(t.dbUrl);
    try {
      await holder.query('begin');
      await holder.query('select 1 from resources where id = $1 for update', [userId]);
      const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Barbara' }] };
      const res = await t.req('PATCH', `/scim/v2/Users/${userId}`, patch);
      expect(res.statusCode, res.body).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503' });
      expect(res.json().detail).toMatch(/statement timeout \(1000 ms\)/);
      expect(await snapshot(t)).toEqual(before);
      await holder.query('rollback');
      const again = await t.req('PATCH', `/scim/v2/Users/${userId}`, patch);
      expect(again.statusCode).toBe(200);
      expect(again.json().displayName).toBe('Barbara');
    } finally {
      await holder.end();
    }
  });

  it('the hourly prune is not bounded: it waits for a lock longer than the timeout and still expires the SETs', async () => {
    const stream = (await t.req('POST', '/ssf/streams', { events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] })).json().stream_id;
    await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'expires' });
    await t.settle();
    // The SET was queued before the retention began: the next prune expires it.
    await fixtures.query(`update events set queued_at = now() - interval '30 days' where feed_id = $1`, [stream]);
    const holder = await rawClient(t.dbUrl);
    try {
      await holder.query('begin');
      await holder.query('select 1 from events where feed_id = $1 for update', [stream]);
      const prune = makePrune(t.deps)({}, {} as JobHelpers);
      await new Promise((r) => setTimeout(r, TIMEOUT_MS * 3));
      await holder.query('commit');
      await prune;
    } finally {
      await holder.end();
    }
    const { rows } = await fixtures.query<{ state: string; err_code: string }>('select state, err_code from events where feed_id = $1', [stream]);
    expect(rows).toEqual([{ state: 'dead', err_code: 'expired' }]);
  });

  it('migrations are not bounded: a replica waits for another one migrating longer than the timeout', async () => {
    const holder = await rawClient(t.dbUrl);
    const database = makeDb(t.dbUrl, { max: 2, statementTimeoutMs: TIMEOUT_MS });
    try {
      await holder.query(`select pg_advisory_lock(hashtext('scimcast:migrate'))`);
      const migrating = migrateDatabase(database.pool);
      await new Promise((r) => setTimeout(r, TIMEOUT_MS * 3));
      await holder.query(`select pg_advisory_unlock(hashtext('scimcast:migrate'))`);
      await migrating;
      // The connection it used went back to the pool with the bound restored.
      const { rows } = await database.pool.query<{ statement_timeout: string }>('show statement_timeout');
      expect(rows[0]!.statement_timeout).toBe('1s');
    } finally {
      await holder.end();
      await database.close();
    }
  });
});

describe('SCIMCAST_MAX_MEMBERS_RETURNED=5', () => {
  let t: TestApp;
  let users: string[];
  let big: string;
  let full: string;
  beforeAll(async () => {
    t = await startTestApp({ SCIMCAST_MAX_MEMBERS_RETURNED: '5' });
    users = [];
    for (let i = 0; i < 6; i++) users.push((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `m${i}` })).json().id);
    big = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'six', members: users.map((value) => ({ value })) })).json().id;
    full = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'five', members: users.slice(0, 5).map((value) => ({ value })) })).json().id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a group over the cap is 400 tooMany telling how to read it; with excludedAttributes=members it is 200', async () => {
    const res = await t.req('GET', `/scim/v2/Groups/${big}`);
    expectScimClientError(res, 'big group');
    expect(res.json()).toMatchObject({ status: '400', scimType: 'tooMany' });
    expect(res.json().detail).toContain(`Group ${big} has more than 5 members`);
    expect(res.json().detail).toContain('excludedAttributes=members');
    expect(res.json().detail).toContain(`GET /Users?filter=groups.value eq "${big}"`);

    const without = await t.req('GET', `/scim/v2/Groups/${big}?excludedAttributes=members`);
    expect(without.statusCode).toBe(200);
    expect(without.json()).toMatchObject({ id: big, displayName: 'six' });
    expect(without.json().members).toBeUndefined();
    expect((await t.req('GET', `/scim/v2/Groups/${big}?attributes=displayName`)).statusCode).toBe(200);
  });

  it('the way around it works: the members page through the Users filter the error names', async () => {
    const res = await t.req('GET', `/scim/v2/Users?count=4&filter=${encodeURIComponent(`groups.value eq "${big}"`)}`);
    expect(res.json()).toMatchObject({ totalResults: 6, itemsPerPage: 4 });
  });

  it('a group at the cap is returned whole', async () => {
    const res = await t.req('GET', `/scim/v2/Groups/${full}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().members.map((m: { value: string }) => m.value)).toEqual(users.slice(0, 5));
  });

  it('a list page whose groups have more members together is 400 tooMany; excludedAttributes=members or a smaller page answers', async () => {
    for (const res of [await t.req('GET', '/scim/v2/Groups'), await t.req('POST', '/scim/v2/Groups/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] })]) {
      expectScimClientError(res, 'list');
      expect(res.json()).toMatchObject({ status: '400', scimType: 'tooMany' });
      expect(res.json().detail).toMatch(/more than 5 members together/);
    }
    expect((await t.req('GET', '/scim/v2/Groups?excludedAttributes=members')).json().totalResults).toBe(2);
    expect((await t.req('GET', '/scim/v2/?excludedAttributes=members')).json().totalResults).toBe(8);
    const page = await t.req('GET', `/scim/v2/Groups?count=1&filter=${encodeURIComponent('displayName eq "five"')}`);
    expect(page.json().Resources[0].members).toHaveLength(5);
  });

  it('a PATCH asking for members of a group over the cap is applied and answers 204 (RFC 7644 §3.5.2)', async () => {
    const res = await t.req('PATCH', `/scim/v2/Groups/${big}?attributes=members`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'six!' }] });
    expect(res.statusCode).toBe(204);
    expect((await t.req('GET', `/scim/v2/Groups/${big}?excludedAttributes=members`)).json().displayName).toBe('six!');
  });
});

describe('the settings themselves', () => {
  it('defaults: statements 30 s, 10,000 members per response; 0 turns the timeout off', async () => {
    const { url, drop } = await createTestDatabase();
    try {
      const config = loadConfig({ DATABASE_URL: url });
      expect(config.limits.statementTimeoutMs).toBe(30_000);
      expect(config.limits.maxMembersReturned).toBe(10_000);
      const shown = async (statementTimeoutMs: number) => {
        const database = makeDb(url, { max: 1, statementTimeoutMs });
        try {
          return (await database.pool.query<{ statement_timeout: string }>('show statement_timeout')).rows[0]!.statement_timeout;
        } finally {
          await database.close();
        }
      };
      expect(await shown(config.limits.statementTimeoutMs)).toBe('30s');
      expect(await shown(0)).toBe('0');
      expect(() => loadConfig({ SCIMCAST_MAX_MEMBERS_RETURNED: '0' })).toThrow(/SCIMCAST_MAX_MEMBERS_RETURNED/);
      expect(() => loadConfig({ SCIMCAST_STATEMENT_TIMEOUT_MS: '-1' })).toThrow(/SCIMCAST_STATEMENT_TIMEOUT_MS/);
    } finally {
      await drop();
    }
  });
});
