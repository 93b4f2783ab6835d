/**
 * npm run bench:bulk: a 10,000-operation POST /Bulk (users, then groups that
 * reference them by bulkId) against a real `scimcast start` child process on its embedded
 * PostgreSQL (durable commits), printed beside a raw multi-row INSERT of the same rows into the
 * same database in the same run, and the server's peak RSS (VmHWM) during the bulk.
 *
 * Options: --ops=N (default 10000), --runs=N (default 3; the best run is reported with all runs).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, runningEmbedded } from '../src/storage/embedded.js';
import { rawInsert } from './baselines/raw-insert.js';
import { bulkBody, bulkShape, GROUP_SIZE } from './lib/bulk-body.js';

const arg = (name: string, def: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
const OPS = arg('ops', 10_000);
const RUNS = arg('runs', 3);
const { users: USERS, groups: GROUPS } = bulkShape(OPS);
const TOKEN = `bench-${randomUUID()}`;
const ROOT = join(import.meta.dirname, '..');

const vmHwmMb = (pid: number) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'scimcast-bench-bulk-'));
  const port = await freePort();
  const server = spawn(process.execPath, ['bin/scimcast.js', 'serve', '--no-worker'], {
    cwd: ROOT,
    env: { ...process.env, SCIMCAST_DATA_DIR: dataDir, PORT: String(port), BASE_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn', SCIMCAST_BOOTSTRAP_TOKEN: TOKEN, DATABASE_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}/scim/v2`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {
      /* not yet */
    }
    if (i > 600) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' };
  const bulk = async (body: unknown) => {
    const text = JSON.stringify(body);
    const t0 = performance.now();
    const r = await fetch(`${base}/Bulk`, { method: 'POST', headers, body: text });
    const out = (await r.json()) as { Operations: { status: string }[] };
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`bulk answered ${r.status}`);
    const failed = out.Operations.filter((o) => Number(o.status) >= 400).length;
    if (failed > 0 || out.Operations.length !== (body as { Operations: unknown[] }).Operations.length) throw new Error(`bulk had ${failed} failures`);
    return { ms, bytes: text.length };
  };
  const db = new pg.Client({ connectionString: runningEmbedded(dataDir)!.url });
  await db.connect();

  // Warm-up: JIT, pools, caches, on both sides.
  await bulk(bulkBody('warm', OPS));
  await rawInsert(db, 'warm-raw', OPS);

  const runs: { bulkMs: number; rawMs: number; bytes: number }[] = [];
  for (let r = 0; r < RUNS; r++) {
    const b = await bulk(bulkBody(`run${r}`, OPS));
    const rawMs = await rawInsert(db, `raw${r}`, OPS);
    runs.push({ bulkMs: b.ms, rawMs, bytes: b.bytes });
  }
  const peak = vmHwmMb(server.pid!);
  await db.end();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));

  const rate = (ms: number) => Math.round(OPS / (ms / 1000));
  console.log(`POST /Bulk: ${OPS} operations (${USERS} users, then ${GROUPS} groups of ${GROUP_SIZE} members by bulkId), ${(runs[0]!.bytes / 1024 / 1024).toFixed(1)} MiB`);
  for (const [i, r] of runs.entries()) {
    console.log(`  run ${i + 1}: bulk ${r.bulkMs.toFixed(0)} ms = ${rate(r.bulkMs)} ops/s | raw multi-row INSERT of the same rows ${r.rawMs.toFixed(0)} ms = ${rate(r.rawMs)} ops/s equivalent | ratio bulk/raw time ${(r.bulkMs / r.rawMs).toFixed(2)}`);
  }
  const best = runs.reduce((a, b) => (b.bulkMs < a.bulkMs ? b : a));
  console.log(`best: ${rate(best.bulkMs)} ops/s (target >= 20000), raw INSERT ${rate(best.rawMs)} ops/s equivalent, bulk takes ${(best.bulkMs / best.rawMs).toFixed(2)}x the raw INSERT time`);
  console.log(`server peak RSS (VmHWM) ${peak.toFixed(0)} MB (target < 400 MB)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
