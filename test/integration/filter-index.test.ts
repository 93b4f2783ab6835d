import { randomBytes } from 'node:crypto';
import { drizzle } from 'drizzle-orm/node-postgres';
import { PgDialect } from 'drizzle-orm/pg-core';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseFilter } from '../../src/scim/filter/index.js';
import type { Db } from '../../src/storage/db.js';
import { compileFilter } from '../../src/storage/filter-sql.js';
import { runList } from '../../src/storage/list-query.js';
import { migrateDatabase } from '../../src/storage/migrate.js';
import * as schema from '../../src/storage/schema.js';
import { createTestDatabase } from '../helpers/db.js';

/**
 * Substring filters (co / sw / ew) and their pg_trgm indexes (src/storage/substring-index.ts,
 * drizzle/0001 and 0002), against the real PostgreSQL:
 * - the migrations create them, on an empty database and again on a migrated one;
 * - EXPLAIN of the queries runList really sends shows the index, on a few thousand users after
 *   ANALYZE, with the planner's default settings (no enable_seqscan=off);
 * - the emails prefilter never changes a result: random data and filters with `%`, `_`, `\`,
 *   mixed case and Unicode give the same rows with and without it, with and without the indexes,
 *   under the server's default collation and under ICU.
 */

const TRGM_INDEXES = ['resources_user_name_trgm', 'resources_display_name_trgm', 'resources_external_id_trgm', 'resources_email_values_trgm'];
const dialect = new PgDialect();

const serverClient = async () => {
  const c = new pg.Client({ connectionString: inject('pgServerUrl') });
  await c.connect();
  return c;
};
const dbUrl = (name: string) => {
  const u = new URL(inject('pgServerUrl'));
  u.pathname = `/${name}`;
  return u.toString();
};

async function schemaState(pool: pg.Pool) {
  const ext = await pool.query(`select 1 from pg_extension where extname = 'pg_trgm'`);
  const fn = await pool.query(`select provolatile from pg_proc where proname = 'scim_email_values'`);
  const idx = await pool.query<{ indexname: string; indexdef: string }>(`select indexname, indexdef from pg_indexes where tablename = 'resources' and indexname like '%_trgm'`);
  const applied = await pool.query<{ n: number }>(`select count(*)::int as n from drizzle.__drizzle_migrations`);
  return {
    extension: ext.rowCount === 1,
    immutable: fn.rows[0]?.provolatile === 'i',
    indexes: Object.fromEntries(idx.rows.map((r) => [r.indexname, r.indexdef])),
    applied: applied.rows[0]!.n,
  };
}

function expectSubstringSchema(s: Awaited<ReturnType<typeof schemaState>>) {
  expect(s.extension).toBe(true);
  expect(s.immutable).toBe(true);
  expect(Object.keys(s.indexes).sort()).toEqual([...TRGM_INDEXES].sort());
  expect(s.indexes.resources_email_values_trgm).toMatch(/USING gin \(scim_email_values\(doc\) gin_trgm_ops\) WITH \(gin_pending_list_limit='?256'?\)/);
  expect(s.indexes.resources_user_name_trgm).toContain('USING gin (lower(user_name) gin_trgm_ops)');
}

describe('migrations', () => {
  it('an already-migrated database (the test template) has the indexes, and migrating it again changes nothing', async () => {
    const { url, drop } = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      const before = await schemaState(pool);
      expectSubstringSchema(before);
      await migrateDatabase(pool);
      await migrateDatabase(pool);
      expect(await schemaState(pool)).toEqual(before);
    } finally {
      await pool.end();
      await drop();
    }
  });

  it('an empty database is migrated from scratch (extension, function, indexes), and a second run is a no-op', async () => {
    const name = `scimcast_t_empty_${randomBytes(4).toString('hex')}`;
    const admin = await serverClient();
    await admin.query(`create database ${name}`);
    const pool = new pg.Pool({ connectionString: dbUrl(name), max: 2 });
    // The forced drop below may reach a connection pool.end() is still closing: its error is expected.
    pool.on('connect', (c) => c.on('error', () => {}));
    try {
      await migrateDatabase(pool);
      const first = await schemaState(pool);
      expectSubstringSchema(first);
      await migrateDatabase(pool);
      expect(await schemaState(pool)).toEqual(first);
    } finally {
      await pool.end();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});

/** The bench's population (bench/lib/seed-doc.ts): seed-<i>, ext-<i>, seed-<i>@example.com (work). */
const SEEDED = 5_000;

describe('EXPLAIN: substring filters read their trigram index, not every row', () => {
  let drop: () => Promise<void>;
  let pool: pg.Pool;
  let db: Db;
  const sent: Array<{ query: string; params: unknown[] }> = [];
  let recording = false;

  beforeAll(async () => {
    const t = await createTestDatabase();
    drop = t.drop;
    pool = new pg.Pool({ connectionString: t.url, max: 2 });
    db = drizzle(pool, { schema });
    // Every statement runList sends goes through the pool: recorded while `recording`.
    const query = pool.query.bind(pool) as (...a: unknown[]) => unknown;
    (pool as unknown as { query: unknown }).query = (...a: unknown[]) => {
      const c = a[0] as { text?: string; values?: unknown[] };
      if (recording && typeof c === 'object' && c?.text) sent.push({ query: c.text, params: c.values ?? (a[1] as unknown[]) ?? [] });
      return query(...a);
    };
    await pool.query(
      `insert into resources (id, resource_type, user_name, external_id, display_name, active, doc, version, created, last_modified)
       select gen_random_uuid(), 'User', 'seed-' || i, 'ext-' || i, 'Seed Person ' || i, true,
              jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User'), 'userName', 'seed-' || i,
                'emails', jsonb_build_array(jsonb_build_object('value', 'seed-' || i || '@example.com', 'type', 'work', 'primary', true),
                                            jsonb_build_object('value', 'home-' || i || '@example.org', 'type', 'home'))),
              1, now() - make_interval(secs => ($1::int - i) / 1000.0), now()
       from generate_series(0, $1::int - 1) i`,
      [SEEDED],
    );
    await pool.query('analyze resources');
  });
  afterAll(async () => {
    await pool?.end();
    await drop?.();
  });

  /** runList as GET /Users runs it; returns the userNames and the plans of the queries it sent. */
  async function listWithPlans(filter: string) {
    sent.length = 0;
    recording = true;
    const r = await runList(db, { types: ['User'], filter: parseFilter(filter), page: { method: 'index', startIndex: 1, count: 100 } }).finally(() => {
      recording = false;
    });
    const plans: string[] = [];
    for (const q of sent) {
      const rows = await pool.query<{ 'QUERY PLAN': string }>(`explain ${q.query}`, q.params);
      plans.push(rows.rows.map((x) => x['QUERY PLAN']).join('\n'));
    }
    return { total: r.total, userNames: r.rows.map((x) => x.userName), plans };
  }

  it('the bench filter emails[type eq "work" and value co "seed-1234@"] finds its one user through resources_email_values_trgm', async () => {
    const r = await listWithPlans('emails[type eq "work" and value co "seed-1234@"]');
    expect(r.total).toBe(1);
    expect(r.userNames).toEqual(['seed-1234']);
    // runList sends one statement; both its count and its page use the index and scan no table.
    expect(r.plans).toHaveLength(1);
    expect(r.plans[0]!.split('Bitmap Index Scan on resources_email_values_trgm')).toHaveLength(3);
    expect(r.plans[0]).not.toContain('Seq Scan');
  });

  it.each([
    ['userName co "ed-4321"', 'resources_user_name_trgm', ['seed-4321']],
    ['displayName ew "person 2468"', 'resources_display_name_trgm', ['seed-2468']],
    ['externalId sw "ext-3579"', 'resources_external_id_trgm', ['seed-3579']],
    ['emails.value sw "home-1357@"', 'resources_email_values_trgm', ['seed-1357']],
    ['emails ew "-975@example.org"', 'resources_email_values_trgm', ['seed-975']],
    ['emails[value co "seed-111@"] or emails[value co "seed-222@"]', 'resources_email_values_trgm', ['seed-111', 'seed-222']],
  ])('%s uses %s', async (filter, index, expected) => {
    const r = await listWithPlans(filter);
    expect(r.userNames.sort()).toEqual(expected);
    for (const plan of r.plans) {
      expect(plan).toContain(`Index Scan on ${index}`);
      expect(plan).not.toContain('Seq Scan');
    }
  });

  it('the rows read are those of the matches, not of the table (EXPLAIN ANALYZE of the count)', async () => {
    const where = dialect.sqlToQuery(compileFilter(['User'], parseFilter('emails[type eq "work" and value co "seed-4242@"]')));
    const rows = await pool.query(`explain (analyze, buffers, format json) select count(*) from resources where ${where.sql}`, where.params);
    const plan = JSON.stringify(rows.rows[0]['QUERY PLAN']);
    const heap = JSON.parse(plan)[0].Plan.Plans[0];
    expect(heap['Node Type']).toBe('Bitmap Heap Scan');
    expect(heap['Actual Rows']).toBe(1);
    // One heap page (the match's); the table has hundreds.
    expect(heap['Exact Heap Blocks']).toBeLessThanOrEqual(2);
  });

  it('not (…) is not narrowed by the index and still answers every other user', async () => {
    const r = await listWithPlans('not (emails[type eq "work" and value co "seed-1234@"])');
    expect(r.total).toBe(SEEDED - 1);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: the prefilter and the indexes never change a result.

const CHARS = [...'abxAB01%_\\@.-" \n', 'é', 'É', 'ß', 'ẞ', 'İ', 'ı', 'I', 'i', 'Σ', 'σ', 'ς', 'ǅ', 'ﬁ', '\u212A', 'k', '\u2126', 'ω', '😀', '\u0301'];
const text = (min: number, max: number) => fc.array(fc.constantFrom(...CHARS), { minLength: min, maxLength: max }).map((a) => a.join(''));
const TYPES = ['work', 'home', 'WORK', undefined] as const;
const emailArb = fc.record({ value: fc.option(text(0, 10), { nil: undefined }), type: fc.constantFrom(...TYPES) });

/** Emails as PUT would store them, plus shapes only a direct write could leave (robustness). */
function fixtureDocs(): Array<{ userName: string; doc: Record<string, unknown> }> {
  const users = fc.sample(fc.record({ userName: text(1, 8), emails: fc.array(emailArb, { maxLength: 3 }) }), { numRuns: 300, seed: 20261203 });
  const docs = users.map((u, i) => ({ userName: `${u.userName}#${i}`, doc: { userName: `${u.userName}#${i}`, emails: u.emails } as Record<string, unknown> }));
  docs.push({ userName: 'odd-object', doc: { emails: { value: 'odd@x', type: 'work' } } });
  docs.push({ userName: 'odd-strings', doc: { emails: ['odd@x', { value: 'Odd@X' }] } });
  docs.push({ userName: 'odd-number', doc: { emails: [{ value: 12345, type: 'work' }] } });
  docs.push({ userName: 'odd-none', doc: {} });
  return docs;
}

const OPS = ['co', 'sw', 'ew'] as const;

function filterArb(values: readonly string[]) {
  const vary = (s: string, flips: readonly boolean[]) => Array.from(s).map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c.toLowerCase())).join('');
  // A piece of a stored value (in code points, case changed at random), or any string.
  const piece = fc
    .tuple(fc.nat(), fc.nat(), fc.nat(), fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }))
    .map(([v, a, b, flips]) => {
      const cps = Array.from(values[v % values.length]!);
      const start = a % (cps.length + 1);
      return vary(cps.slice(start, start + (b % 6)).join(''), flips);
    });
  const value = fc.oneof({ arbitrary: piece, weight: 4 }, { arbitrary: text(0, 4), weight: 1 });
  const lit = value.map((v) => JSON.stringify(v));
  const op = fc.constantFrom(...OPS);
  return fc.oneof(
    fc.tuple(op, lit).map(([o, v]) => `emails[type eq "work" and value ${o} ${v}]`),
    fc.tuple(op, lit).map(([o, v]) => `emails.value ${o} ${v}`),
    fc.tuple(op, lit).map(([o, v]) => `emails ${o} ${v}`),
    fc.tuple(op, lit, op, lit).map(([o, v, p, w]) => `emails[value ${o} ${v} or value ${p} ${w}]`),
    fc.tuple(op, lit, op, lit).map(([o, v, p, w]) => `emails[value ${o} ${v} and not (value ${p} ${w})]`),
    fc.tuple(op, lit).map(([o, v]) => `not (emails.value ${o} ${v})`),
    fc.tuple(op, lit, op, lit).map(([o, v, p, w]) => `emails.value ${o} ${v} or userName ${p} ${w}`),
    fc.tuple(op, lit).map(([o, v]) => `userName ${o} ${v}`),
  );
}

interface Fixture {
  readonly label: string;
  readonly url: string;
  readonly cleanup: () => Promise<void>;
}

async function propertyOn(f: Fixture) {
  const docs = fixtureDocs();
  const load = new pg.Client({ connectionString: f.url });
  await load.connect();
  for (const d of docs) {
    await load.query(
      `insert into resources (id, resource_type, user_name, doc, version, created, last_modified) values (gen_random_uuid(), 'User', $1, $2, 1, now(), now())`,
      [d.userName, JSON.stringify(d.doc)],
    );
  }
  await load.query('analyze resources');
  await load.end();
  // Index paths wherever the planner has one, versus plain scans of the exact predicate only.
  const indexed = new pg.Client({ connectionString: f.url });
  const scanned = new pg.Client({ connectionString: f.url });
  await indexed.connect();
  await scanned.connect();
  await indexed.query('set enable_seqscan = off');
  await scanned.query('set enable_bitmapscan = off; set enable_indexscan = off');
  const ids = async (c: pg.Client, filter: string, prefilter: boolean) => {
    const q = dialect.sqlToQuery(compileFilter(['User'], parseFilter(filter), { prefilter }));
    return (await c.query<{ user_name: string }>(`select user_name from resources where ${q.sql} order by user_name collate "C"`, q.params)).rows.map((r) => r.user_name);
  };
  const values = docs.flatMap((d) => (Array.isArray(d.doc.emails) ? d.doc.emails : [])).flatMap((e) => (typeof e?.value === 'string' && e.value !== '' ? [e.value as string] : []));
  let nonEmpty = 0;
  let runs = 0;
  try {
    await fc.assert(
      fc.asyncProperty(filterArb(values), async (filter) => {
        const exact = await ids(scanned, filter, false);
        expect(await ids(indexed, filter, true), `${f.label}: ${filter}`).toEqual(exact);
        expect(await ids(scanned, filter, true), `${f.label}: ${filter} (prefilter, no index)`).toEqual(exact);
        runs++;
        if (exact.length > 0 && exact.length < docs.length) nonEmpty++;
      }),
      { numRuns: 250, seed: 7 },
    );
  } finally {
    await indexed.end();
    await scanned.end();
    await f.cleanup();
  }
  // Not vacuous: most filters select some users but not all.
  expect(nonEmpty).toBeGreaterThan(runs / 3);
}

describe('the emails prefilter never changes which users a filter returns', () => {
  it('under the default collation of the server', async () => {
    const t = await createTestDatabase();
    const admin = new pg.Client({ connectionString: t.url });
    await admin.connect();
    const collation = (await admin.query(`select datlocprovider, datcollate from pg_database where datname = current_database()`)).rows[0];
    await admin.end();
    expect(collation).toBeDefined();
    await propertyOn({ label: `default (${collation.datlocprovider}/${collation.datcollate})`, url: t.url, cleanup: t.drop });
  });

  it('under ICU (lower() there changes lengths, e.g. İ → i̇, and knows final sigma); migrated from empty', async () => {
    const name = `scimcast_t_icu_${randomBytes(4).toString('hex')}`;
    const admin = await serverClient();
    await admin.query(`create database ${name} template template0 encoding 'UTF8' locale_provider icu icu_locale 'und' locale 'C'`);
    const pool = new pg.Pool({ connectionString: dbUrl(name), max: 1 });
    await migrateDatabase(pool);
    const lowered = (await pool.query(`select lower('İΣ') as l`)).rows[0].l;
    await pool.end();
    expect(lowered).toBe('i̇ς');
    await propertyOn({
      label: 'ICU und',
      url: dbUrl(name),
      cleanup: async () => {
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      },
    });
  });
});
