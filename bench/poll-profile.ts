/**
 * npm run bench:poll-profile: where the time of an RFC 8936 poll drain goes. Starts `scimcast
 * start` with V8's CPU profiler on, builds a backlog of real SETs on one poll stream, drains it with
 * maxEvents 1,000 acking each page (as the bench's poll row does), then prints:
 * - EXPLAIN ANALYZE of the page read and of the ack of one page (rolled back), on the same data;
 * - the server's CPU profile restricted to the drain: self time per function and per module.
 * The raw profile is kept in bench/results/ for Chrome DevTools.
 *
 * Options: --sets=N (default 20,000).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { bulkBody } from './lib/bulk-body.js';
import { analyse, type Profile } from './lib/cpu-profile.js';
import { ROOT, startScimcast } from './lib/processes.js';
import { sleep, summarize } from './lib/stats.js';
import { drainPoll, waitForPending } from './scenarios/poll.js';
import { createStream, POLL } from './scenarios/streams.js';

const total = Number(process.argv.find((a) => a.startsWith('--sets='))?.slice(7) ?? 20_000);
const profDir = join(tmpdir(), `scimcast-poll-prof-${process.pid}`);
mkdirSync(profDir, { recursive: true });

async function explain(db: pg.Pool, feed: string) {
  const page = await db.query(`select jti from events where feed_id = $1 and state = 'pending' order by seq limit 1000`, [feed]);
  const jtis = page.rows.map((r: { jti: string }) => r.jti);
  const out: string[] = [];
  const run = async (label: string, q: string, params: unknown[], setup: string[] = []) => {
    const c = await db.connect();
    try {
      await c.query('begin');
      for (const x of setup) await c.query(x);
      const r = await c.query(`explain (analyze, buffers) ${q}`, params);
      out.push(`-- ${label}`, ...r.rows.map((x: Record<string, string>) => x['QUERY PLAN']!.replace(/'\{[^}]*\}'/g, "'{…}'")), '');
    } finally {
      await c.query('rollback');
      c.release();
    }
  };
  const read = `select jti, jws from events where feed_id = $1 and state = 'pending' order by seq limit 1001`;
  await run('page read as scimcast issues it (bitmap scans off: the index walk)', read, [feed], ['set local enable_bitmapscan = off']);
  await run('the same read as the planner picks it on a table not yet analysed', read, [feed]);
  await run('ack of one page, one text[] parameter (rolled back)', `update events set state = 'acked', done_at = now() where feed_id = $1 and state = 'pending' and jti = any($2::text[])`, [feed, jtis]);
  return out;
}

async function main() {
  const scim = await startScimcast({ nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  const db = new pg.Pool({ connectionString: scim.databaseUrl, max: 2 });
  let report: string[] = [];
  let from = 0;
  let to = 0;
  try {
    const c = scim.client;
    const stream = await createStream(c, { delivery: { method: POLL } });
    const tag = `p${Date.now().toString(36)}`;
    for (let made = 0, k = 0; made < total; k++) {
      const n = Math.min(10_000, total - made);
      await c.call('POST', '/scim/v2/Bulk', { body: bulkBody(`${tag}-${k}`, n, { groups: false }), expect: 200 });
      made += n;
    }
    await waitForPending(c, stream, total);
    report = await explain(db, stream);
    await sleep(1000);
    from = Number(process.hrtime.bigint() / 1000n);
    const r = await drainPoll(c, stream);
    to = Number(process.hrtime.bigint() / 1000n);
    const s = summarize(r.latencies);
    report.push(`drain: ${r.sets} SETs in ${r.seconds.toFixed(2)} s = ${Math.round(r.sets / r.seconds)} SETs/s; per request p50 ${s.p50.toFixed(1)} ms p99 ${s.p99.toFixed(1)} ms`);
  } finally {
    await db.end();
    await scim.stop();
  }
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no CPU profile in ${profDir}`);
  const p = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as Profile;
  const a = analyse(p, from, to);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const kept = join(dir, `poll-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  renameSync(join(profDir, file), kept);
  console.log(
    [
      ...report,
      '',
      `server CPU during the drain: ${a.sampledMs.toFixed(0)} ms sampled in a ${a.windowMs.toFixed(0)} ms window (the rest is the server idle: waiting on PostgreSQL or the client)`,
      '',
      'self time by module:',
      ...a.modules,
      '',
      'self time by function (top 30):',
      ...a.functions,
      '',
      `profile: ${kept}`,
    ].join('\n'),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
