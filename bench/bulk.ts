/**
 * npm run bench:bulk — issue 4 §6: a 10,000-operation POST /Bulk (users, then groups that
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

const arg = (name: string, def: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
const OPS = arg('ops', 10_000);
const RUNS = arg('runs', 3);
const GROUP_SIZE = 10;
const GROUPS = Math.floor(OPS / (GROUP_SIZE + 1));
const USERS = OPS - GROUPS;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const TOKEN = `bench-${randomUUID()}`;
const ROOT = join(import.meta.dirname, '..');

function bulkBody(tag: string) {
  const Operations: unknown[] = [];
  for (let i = 0; i < USERS; i++) {
    Operations.push({
      method: 'POST',
      path: '/Users',
      bulkId: `u${i}`,
      data: { schemas: [USER], userName: `${tag}-u${i}`, externalId: `${tag}-e${i}`, name: { givenName: 'Given', familyName: `Family${i}` }, emails: [{ value: `${tag}-u${i}@example.com`, type: 'work', primary: true }] },
    });
  }
  for (let g = 0; g < GROUPS; g++) {
    const members = Array.from({ length: GROUP_SIZE }, (_, k) => ({ value: `bulkId:u${(g * GROUP_SIZE + k) % USERS}` }));
    Operations.push({ method: 'POST', path: '/Groups', bulkId: `g${g}`, data: { schemas: [GROUP], displayName: `${tag}-g${g}`, members } });
  }
  return { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations };
}

/** The same rows as the bulk writes, as a client with no SCIM server would insert them. */
async function rawInsert(db: pg.Client, tag: string): Promise<number> {
  const t0 = performance.now();
  await db.query('begin');
  const userIds: string[] = [];
  const now = new Date().toISOString();
  for (let start = 0; start < USERS; start += 1000) {
    const vals: unknown[] = [];
    const rows: string[] = [];
    for (let i = start; i < Math.min(USERS, start + 1000); i++) {
      const id = randomUUID();
      userIds.push(id);
      const doc = { schemas: [USER], userName: `${tag}-u${i}`, externalId: `${tag}-e${i}`, name: { givenName: 'Given', familyName: `Family${i}` }, emails: [{ value: `${tag}-u${i}@example.com`, type: 'work', primary: true }] };
      const b = vals.length;
      rows.push(`($${b + 1}::uuid, 'User', $${b + 2}, $${b + 3}, null, null, $${b + 4}::jsonb, 1, $${b + 5}::timestamptz, $${b + 5}::timestamptz)`);
      vals.push(id, doc.userName, doc.externalId, JSON.stringify(doc), now);
    }
    await db.query(`insert into resources (id, resource_type, user_name, external_id, display_name, active, doc, version, created, last_modified) values ${rows.join(',')}`, vals);
  }
  for (let start = 0; start < GROUPS; start += 500) {
    const vals: unknown[] = [];
    const rows: string[] = [];
    const members: string[] = [];
    const mvals: unknown[] = [];
    for (let g = start; g < Math.min(GROUPS, start + 500); g++) {
      const id = randomUUID();
      const doc = { schemas: [GROUP], displayName: `${tag}-g${g}` };
      const b = vals.length;
      rows.push(`($${b + 1}::uuid, 'Group', null, null, $${b + 2}, null, $${b + 3}::jsonb, 1, $${b + 4}::timestamptz, $${b + 4}::timestamptz)`);
      vals.push(id, doc.displayName, JSON.stringify(doc), now);
      for (let k = 0; k < GROUP_SIZE; k++) {
        const m = mvals.length;
        members.push(`($${m + 1}::uuid, $${m + 2}::uuid)`);
        mvals.push(id, userIds[(g * GROUP_SIZE + k) % USERS]);
      }
    }
    await db.query(`insert into resources (id, resource_type, user_name, external_id, display_name, active, doc, version, created, last_modified) values ${rows.join(',')}`, vals);
    await db.query(`insert into group_members (group_id, member_id) values ${members.join(',')}`, mvals);
  }
  await db.query('commit');
  return performance.now() - t0;
}

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
  await bulk(bulkBody('warm'));
  await rawInsert(db, 'warm-raw');

  const runs: { bulkMs: number; rawMs: number; bytes: number }[] = [];
  for (let r = 0; r < RUNS; r++) {
    const b = await bulk(bulkBody(`run${r}`));
    const rawMs = await rawInsert(db, `raw${r}`);
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
