/**
 * npm run bench:group-commit: does scimcast need its own group commit for concurrent single
 * writes, or does PostgreSQL's already do the job? (docs/decisions/0002-group-commit.md)
 *
 * On one embedded PostgreSQL with the production settings (fsync and synchronous_commit on), it
 * measures, at 1, 8 and 64 concurrent writers:
 * - `raw single`: each writer stores one user and its outbox row in one autocommit statement, as a
 *   synchronous create does: the database's ceiling for independent single writes;
 * - `raw batched`: the same rows written 64 per statement and transaction, what an application-level
 *   group commit would send (1 writer per 64 rows);
 * - `API creates`: POST /Users through scimcast with the default settings.
 * For each: rows per second, durable commits per WAL flush (xact_commit against pg_stat_io's WAL
 * fsyncs: above 1 means PostgreSQL already shares one flush among several commits), and CPU per
 * row of the API process and of PostgreSQL.
 *
 * Options: --seconds=N per window (default 6).
 */
import pg from 'pg';
import { sampleCpu, type CpuSample } from './lib/cpu.js';
import { runLoad } from './lib/load.js';
import { startScimcast } from './lib/processes.js';
import { createBody, USER_SCHEMA } from './lib/seed-doc.js';

const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 6);

/** One user and its outbox row in one statement, the NOTIFY riding on it, as a synchronous create stores them. */
const store = (notify: boolean) => `
with r as (
  insert into resources (id, resource_type, user_name, external_id, display_name, active, doc, version, created, last_modified)
  select gen_random_uuid(), 'User', u, null, null, true, jsonb_build_object('schemas', jsonb_build_array($2::text), 'userName', u), 1, now(), now()
  from unnest($1::text[]) u
  returning id, user_name),
c as (
  insert into gc_outbox (id, kind, resource_type, subject_uri, subject, uris, txn_base, op_index, owner, feed_id, data, created_at)
  select gen_random_uuid(), 'prov', 'User', '/Users/' || id, jsonb_build_object('format', 'scim', 'uri', '/Users/' || id), array['urn:ietf:params:scim:event:prov:create:full'],
         gen_random_uuid()::text, null, null, null, jsonb_build_object('userName', user_name), now()
  from r)
select ${notify ? `pg_notify('gc_probe', 'changes')` : '1'}`;
const STORE = store(true);
const STORE_QUIET = store(false);

interface Stats {
  commits: number;
  walFsyncs: number;
  walWrites: number;
}

async function stats(db: pg.Pool): Promise<Stats> {
  const { rows } = await db.query<{ commits: string; fsyncs: string; writes: string }>(
    `select (select xact_commit from pg_stat_database where datname = current_database()) commits,
            (select coalesce(sum(fsyncs), 0) from pg_stat_io where object = 'wal') fsyncs,
            (select coalesce(sum(writes), 0) from pg_stat_io where object = 'wal') writes`,
  );
  // pg_stat_io is flushed by each backend at most once a second (and when idle): read it settled.
  return { commits: Number(rows[0]!.commits), walFsyncs: Number(rows[0]!.fsyncs), walWrites: Number(rows[0]!.writes) };
}

async function main() {
  const scim = await startScimcast();
  const admin = new pg.Pool({ connectionString: scim.databaseUrl, max: 1 });
  const settings = (await admin.query<{ name: string; setting: string }>(`select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'wal_sync_method', 'commit_delay', 'commit_siblings', 'full_page_writes')`)).rows;
  const out: string[] = [`group commit measurement, ${seconds} s per window; PostgreSQL ${settings.map((s) => `${s.name}=${s.setting}`).join(', ')}`, '', '| writers | kind | rows/s | p50 ms | p99 ms | commits per WAL flush | API CPU µs/row | PostgreSQL CPU µs/row |', '|---:|---|---:|---:|---:|---:|---:|---:|'];
  let n = 0;
  const measure = async (writers: number, kind: string, rowsPerOp: number, fn: (i: number) => Promise<void>) => {
    await runLoad({ concurrency: writers, durationMs: 1_000 }, fn);
    await new Promise((r) => setTimeout(r, 1_200));
    const s0 = await stats(admin);
    const c0 = sampleCpu(scim.proc.pid!, undefined);
    const r = await runLoad({ concurrency: writers, durationMs: seconds * 1000 }, fn);
    if (r.errors) throw new Error(`${kind}: ${r.errors} errors, the first: ${String(r.firstError)}`);
    const c1 = sampleCpu(scim.proc.pid!, undefined);
    await new Promise((r) => setTimeout(r, 1_200));
    const s1 = await stats(admin);
    const rows = r.n * rowsPerOp;
    const d = (k: keyof CpuSample) => (((c1[k] - c0[k]) * 1e6) / rows).toFixed(0);
    const flushes = s1.walFsyncs - s0.walFsyncs;
    const line = `| ${writers} | ${kind} | ${Math.round(r.perSec * rowsPerOp)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${flushes ? ((s1.commits - s0.commits) / flushes).toFixed(1) : '—'} | ${d('api')} | ${d('postgres')} |`;
    console.log(line);
    out.push(line);
  };
  // The outbox rows go to a copy of the changes table that no fan-out reads, and the NOTIFY to a
  // channel nobody listens on: what is measured is the commit, not the work it would wake.
  await admin.query('create table gc_outbox (like changes including defaults including identity)');
  try {
    for (const writers of [1, 8, 64]) {
      const pool = new pg.Pool({ connectionString: scim.databaseUrl, max: writers });
      await measure(writers, 'raw single', 1, async () => void (await pool.query(STORE_QUIET, [[`gc-quiet-${n++}`], USER_SCHEMA])));
      await measure(writers, 'raw single + NOTIFY in the commit', 1, async () => void (await pool.query(STORE, [[`gc-raw-${n++}`], USER_SCHEMA])));
      await pool.end();
    }
    const one = new pg.Pool({ connectionString: scim.databaseUrl, max: 1 });
    await measure(1, 'raw batched, 64 rows per commit', 64, async () => void (await one.query(STORE_QUIET, [Array.from({ length: 64 }, () => `gc-batch-${n++}`), USER_SCHEMA])));
    await one.end();
    for (const writers of [1, 8, 64]) {
      await measure(writers, 'API creates', 1, async () => void (await scim.client.call('POST', '/scim/v2/Users', { body: createBody('gc-api', n++), expect: 201 })));
    }
  } finally {
    await admin.query('drop table if exists gc_outbox');
    await admin.end();
    await scim.stop();
  }
  console.log(out.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
