/**
 * npm run bench:request-profile: where a single request's time goes. Starts `scimcast start` with
 * the default settings a user gets (LOG_LEVEL included) and V8's CPU profiler on the API process,
 * seeds 100,000 users and a 100,000-member group, and runs 64 clients of each hot request in turn:
 * POST /Users, GET /Users/{id}, GET /Users?filter=userName eq "…", POST /Users with
 * Prefer: respond-async, one client adding one member to the large group, and 16 clients adding
 * members to 16 groups of the same size. After the async window, `apply` measures the worker
 * applying what the admissions left queued, until the queue and the fan-out are empty: its rate is
 * requests applied per second, and its top frames are the worker process's. For each window it
 * prints the requests per second, the CPU seconds the API process, PostgreSQL and the worker spent
 * per request, the database commits per request (pg_stat_database), the statements that took
 * PostgreSQL's time (pg_stat_statements, loaded into the embedded server for this run only: API,
 * worker and fan-out alike), and the API process's top frames by self time and by module. The raw
 * profile stays in bench/results/ for Chrome DevTools.
 *
 * Options: --seconds=N per window (default 8), --users=N (default 100000), --only=a,b (window names:
 * create, get, filter, async, apply, member-add, member-add-16; apply needs async), --explain=MS
 * (auto_explain: every statement slower than MS is logged with its plan, and the report ends with
 * the slowest statements of the whole run and the tables their plans read sequentially; the
 * timing it adds makes the run's other figures pessimistic).
 */
import { chmodSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import pg from 'pg';
import { autoExplainConf, slowStatementLines, slowStatements } from './lib/auto-explain.js';
import { analyse, profilesIn } from './lib/cpu-profile.js';
import { sampleCpu, type CpuSample } from './lib/cpu.js';
import { runLoad } from './lib/load.js';
import { ROOT, startScimcast } from './lib/processes.js';
import { seedGroup, seedUsers } from './lib/seed.js';
import { createBody, seedUserName } from './lib/seed-doc.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const seconds = Number(arg('seconds') ?? 8);
const users = Number(arg('users') ?? 100_000);
const only = arg('only')?.split(',');
const explainMs = arg('explain') === undefined ? undefined : Number(arg('explain'));
const profDir = join(tmpdir(), `scimcast-req-prof-${process.pid}`);
mkdirSync(profDir, { recursive: true });

const now = () => Number(process.hrtime.bigint() / 1000n);

interface Window {
  name: string;
  /** Whose CPU profile the window's top frames come from. */
  process: 'api' | 'worker';
  from: number;
  to: number;
  requests: number;
  perSec: number;
  p50: number;
  p99: number;
  cpu: CpuSample;
  commits: number;
  /** PostgreSQL's own counters over the window: WAL written, full-page images in it, blocks read from outside shared_buffers. */
  wal: Io;
  statements: Statement[];
}

/** One normalised statement of pg_stat_statements over a window. */
interface Statement {
  calls: number;
  /** Times it was planned: a prepared statement that keeps its generic plan is planned once per connection. */
  plans: number;
  /** Execution and planning time. */
  ms: number;
  query: string;
}

interface Io {
  bytes: number;
  fpi: number;
  reads: number;
}

async function main() {
  const explainDir = join(profDir, 'postgres-log');
  if (explainMs !== undefined) {
    mkdirSync(explainDir, { recursive: true });
    chmodSync(explainDir, 0o777); // the embedded server runs as the postgres user when the bench runs as root
  }
  const libraries = explainMs === undefined ? 'pg_stat_statements' : 'pg_stat_statements,auto_explain';
  const scim = await startScimcast({
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
    postgresConf: [`shared_preload_libraries = '${libraries}'`, 'pg_stat_statements.track_planning = on', ...(explainMs === undefined ? [] : autoExplainConf(explainMs, explainDir))],
  });
  const db = new pg.Pool({ connectionString: scim.databaseUrl, max: 2 });
  await db.query('create extension if not exists pg_stat_statements');
  const windows: Window[] = [];
  try {
    await seedUsers(db, 0, users);
    const group = await seedGroup(db, 'request-profile-large', users);
    const ids = (await db.query<{ id: string }>(`select id from resources where resource_type = 'User' limit 10000`)).rows.map((r) => r.id);
    const c = scim.client;
    const tag = `rp${Date.now().toString(36)}`;
    const commits = async () => Number((await db.query<{ n: string }>('select xact_commit n from pg_stat_database where datname = current_database()')).rows[0]!.n);
    // Where a write's durable cost goes: a page touched for the first time since the last
    // checkpoint goes into the WAL whole (a full-page image), and a page not in shared_buffers is
    // read in first. Both grow with how many distinct pages the requests touch.
    const io = async (): Promise<Io> => {
      const r = await db.query<{ bytes: string; fpi: string; reads: string }>(
        `select w.wal_bytes::text as bytes, w.wal_fpi::text as fpi, d.blks_read::text as reads from pg_stat_wal w, pg_stat_database d where d.datname = current_database()`,
      );
      const row = r.rows[0]!;
      return { bytes: Number(row.bytes), fpi: Number(row.fpi), reads: Number(row.reads) };
    };
    // The bench's own probes (this pool) are left out by their text.
    const topStatements = async (): Promise<Statement[]> => {
      const r = await db.query<{ calls: string; plans: string; ms: number; query: string }>(
        `select calls::text, plans::text, total_exec_time + total_plan_time as ms, query from pg_stat_statements
          where query not like '%pg_stat_%' order by total_exec_time + total_plan_time desc limit 10`,
      );
      return r.rows.map((x) => ({ calls: Number(x.calls), plans: Number(x.plans), ms: x.ms, query: x.query.replace(/\s+/g, ' ').trim() }));
    };
    // The work a window leaves behind (the async window's jobs, the fan-out of its changes) is
    // finished before the next window starts, so that no window pays for another's.
    const drained = async () => {
      for (let i = 0; i < 600; i++) {
        const r = await db.query<{ n: number }>(`select (select count(*) from graphile_worker.jobs where run_at <= now())::int + (select count(*) from changes)::int as n`);
        if (r.rows[0]!.n === 0) return;
        await new Promise((res) => setTimeout(res, 500));
      }
    };
    /** One window: `run` between the counters' two readings, and what it reports. */
    const measure = async (name: string, proc: Window['process'], run: () => Promise<{ requests: number; perSec: number; p50: number; p99: number; commitsOffset?: number }>) => {
      const cpu0 = sampleCpu(scim.proc.pid!, undefined);
      const x0 = await commits();
      const io0 = await io();
      await db.query('select pg_stat_statements_reset()');
      const from = now();
      const r = await run();
      const to = now();
      const io1 = await io();
      const statements = await topStatements();
      const x1 = await commits();
      const cpu1 = sampleCpu(scim.proc.pid!, undefined);
      const cpu = Object.fromEntries(Object.keys(cpu0).map((k) => [k, cpu1[k as keyof CpuSample] - cpu0[k as keyof CpuSample]])) as unknown as CpuSample;
      windows.push({ name, process: proc, from, to, requests: r.requests, perSec: r.perSec, p50: r.p50, p99: r.p99, cpu, commits: x1 - x0 - (r.commitsOffset ?? 0), wal: { bytes: io1.bytes - io0.bytes, fpi: io1.fpi - io0.fpi, reads: io1.reads - io0.reads }, statements });
    };
    const timed = async (name: string, concurrency: number, fn: (i: number) => Promise<void>) => {
      if (only && !only.includes(name)) return;
      await drained();
      await runLoad({ concurrency, durationMs: 1_000 }, fn);
      await measure(name, 'api', async () => {
        const r = await runLoad({ concurrency, durationMs: seconds * 1000 }, fn);
        // The bench's own four probes around the window commit too.
        return { requests: r.n, perSec: r.perSec, p50: r.p50, p99: r.p99, commitsOffset: 4 };
      });
    };
    let n = 0;
    await timed('create', 64, async () => void (await c.call('POST', '/scim/v2/Users', { body: createBody(tag, n++), expect: 201 })));
    await timed('get', 64, async () => void (await c.call('GET', `/scim/v2/Users/${ids[Math.floor(Math.random() * ids.length)]}`, { expect: 200 })));
    await timed('filter', 64, async () => {
      const f = encodeURIComponent(`userName eq "${seedUserName(Math.floor(Math.random() * users))}"`);
      await c.call('GET', `/scim/v2/Users?filter=${f}`, { expect: 200 });
    });
    await timed('async', 64, async () => void (await c.call('POST', '/scim/v2/Users', { body: createBody(`${tag}a`, n++), headers: { prefer: 'respond-async' }, expect: 202 })));
    if (!only || only.includes('apply')) {
      // What the admissions left queued, applied by the worker with nothing else running.
      const queued = Number((await db.query<{ n: string }>(`select count(*)::text as n from graphile_worker.jobs where task_identifier = 'apply_async_request'`)).rows[0]!.n);
      await measure('apply', 'worker', async () => {
        const t0 = now();
        await drained();
        const secs = (now() - t0) / 1e6;
        return { requests: Math.max(1, queued), perSec: queued / secs, p50: NaN, p99: NaN };
      });
    }
    // One member in, then out again, so the group's size stays at `users`.
    let k = 0;
    const outside = (await db.query<{ id: string }>(`select id from resources where resource_type = 'User' and user_name like $1 limit 2000`, [`${tag}-%`])).rows.map((r) => r.id);
    await timed('member-add', 1, async () => {
      const member = outside[k++ % outside.length]!;
      const op = k % 2 === 1 ? { op: 'add', path: 'members', value: [{ value: member }] } : { op: 'remove', path: `members[value eq "${outside[(k - 2 + outside.length) % outside.length]}"]` };
      await c.call('PATCH', `/scim/v2/Groups/${group}`, { body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [op] }, expect: [200, 204] });
    });
    // 16 clients, each adding new members to a large group of its own.
    const groups: string[] = [];
    if (!only || only.includes('member-add-16')) for (let g = 0; g < 16; g++) groups.push(await seedGroup(db, `request-profile-${g}`, users));
    const fresh = (await db.query<{ id: string }>(`select id from resources where resource_type = 'User' and user_name like $1`, [`${tag}%`])).rows.map((r) => r.id);
    if (groups.length > 0 && fresh.length === 0) throw new Error('member-add-16 adds the users the create window made: run it with create');
    let f = 0;
    const free = [...groups];
    await timed('member-add-16', 16, async () => {
      const member = fresh[f++ % fresh.length]!;
      // Each client holds a group of its own while its request runs: no two adds race on one group.
      const group = free.shift()!;
      try {
        await c.call('PATCH', `/scim/v2/Groups/${group}`, { body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: member }] }] }, expect: 204 });
      } finally {
        free.push(group);
      }
    });
  } finally {
    await db.end();
    await scim.stop();
  }
  const profiles = profilesIn(profDir);
  const api = profiles.find((p) => p.pid === scim.proc.pid);
  if (!api) throw new Error(`no CPU profile of the API process ${scim.proc.pid} in ${profDir}`);
  // The worker process (restarted ones aside: the longest profile).
  const worker = profiles.filter((p) => p.pid !== scim.proc.pid).sort((a, b) => b.profile.endTime - b.profile.startTime - (a.profile.endTime - a.profile.startTime))[0];
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const kept = join(dir, `request-${basename(api.file)}`);
  renameSync(api.file, kept);
  const out: string[] = [`scimcast request profile: default settings, ${users.toLocaleString('en-US')} users, ${seconds} s per window; API process ${scim.proc.pid}`];
  for (const w of windows) {
    const per = (s: number) => `${((s * 1e6) / w.requests).toFixed(0)} µs`;
    const prof = w.process === 'api' ? api : worker;
    const a = prof ? analyse(prof.profile, w.from, w.to) : undefined;
    out.push(
      '',
      `${w.name}: ${Math.round(w.perSec)}/s${Number.isNaN(w.p50) ? ` (${w.requests} queued requests applied in ${((w.to - w.from) / 1e6).toFixed(1)} s)` : `, p50 ${w.p50.toFixed(2)} ms, p99 ${w.p99.toFixed(2)} ms`}; CPU per request: API ${per(w.cpu.api)}, PostgreSQL ${per(w.cpu.postgres)}, worker ${per(w.cpu.worker)}; database commits per request ${(w.commits / w.requests).toFixed(2)}`,
      `PostgreSQL per request: WAL ${(w.wal.bytes / w.requests).toFixed(0)} B with ${(w.wal.fpi / w.requests).toFixed(2)} full-page images, ${(w.wal.reads / w.requests).toFixed(2)} blocks read from outside shared_buffers`,
      'PostgreSQL statements by planning and execution time (per request: calls, plans, µs; then mean µs per call):',
      ...w.statements.map(
        (x) =>
          `${(x.calls / w.requests).toFixed(2).padStart(6)} ${(x.plans / w.requests).toFixed(2).padStart(6)} ${((x.ms * 1000) / w.requests).toFixed(0).padStart(6)} µs ${((x.ms * 1000) / Math.max(1, x.calls)).toFixed(0).padStart(6)} µs  ${x.query.slice(0, 140)}`,
      ),
      ...(a
        ? [`${w.process === 'api' ? 'API' : 'Worker'} process: sampled ${a.sampledMs.toFixed(0)} ms of ${a.windowMs.toFixed(0)} ms. Top frames by self time:`, ...a.functions.slice(0, 15), 'by module:', ...a.modules.slice(0, 10)]
        : [`no CPU profile of the ${w.process} process`]),
    );
  }
  if (explainMs !== undefined) out.push('', `Statements slower than ${explainMs} ms over the whole run (auto_explain), by total time:`, ...slowStatementLines(slowStatements(explainDir)));
  out.push('', `profile: ${kept}`);
  console.log(out.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
