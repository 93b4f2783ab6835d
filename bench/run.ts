/**
 * npm run bench [-- --quick]: scimcast on its embedded PostgreSQL with production
 * settings (durable commits), the SCIMMY peer and this machine's ceilings, measured in one run on
 * loopback, printed as one table of ratios and saved as bench/results/<timestamp>.json.
 *
 * Options:
 *   --quick            about a minute: short windows, 10,000 users, no 1M scale
 *   --only=a,b         run only these scenarios (ceilings, creates, reads, member-add, bulk,
 *                      password-bulk, async, priority, stream-cost, push-latency, push-drain, fanout, poll,
 *                      scaling, log-cost, api-processes); ceilings always run. `push` names the
 *                      four event-pipeline scenarios (stream-cost, push-latency, push-drain, fanout).
 *                      `api-processes` runs creates and filter-eq reads against `scimcast start`
 *                      with SCIMCAST_API_PROCESSES 1, 2 and 3, side by side with the ceiling.
 *   --no-peer          skip SCIMMY
 *
 * Each server (scimcast, SCIMMY, the hello-world, the push receiver) runs in its own process, so
 * its peak RSS is its own; the load generator (bench/lib/load.ts) runs here.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { makeClient } from './lib/client.js';
import { describeMachine, loadAverages } from './lib/machine.js';
import { ROOT, startHelper, startScimcast } from './lib/processes.js';
import { markdownTable, peerTable, scalingTable, type Row, type ScalingRow } from './lib/report.js';
import { apiProcesses } from './scenarios/api-processes.js';
import { asyncRequests } from './scenarios/async.js';
import { bulk } from './scenarios/bulk.js';
import { ceilings } from './scenarios/ceilings.js';
import type { Ctx } from './scenarios/context.js';
import { creates } from './scenarios/creates.js';
import { memberAdd, memberAddThroughput } from './scenarios/member-add.js';
import { passwordBulk } from './scenarios/password-bulk.js';
import { pollScenario } from './scenarios/poll.js';
import { priority } from './scenarios/priority.js';
import { fanout } from './scenarios/fanout.js';
import { logCost } from './scenarios/log-cost.js';
import { pushLatency } from './scenarios/push-latency.js';
import { pushDrain } from './scenarios/push.js';
import { reads } from './scenarios/reads.js';
import { scaling } from './scenarios/scaling.js';
import { streamCost } from './scenarios/stream-cost.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const only = argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const GROUPS: Record<string, string[]> = { push: ['stream-cost', 'push-latency', 'push-drain', 'fanout'] };
const wanted = only?.flatMap((n) => GROUPS[n] ?? [n]);
const wants = (name: string) => !wanted || wanted.includes(name);
const PEER_TOKEN = 'bench-peer-token';

const started = performance.now();
const log = (msg: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);

async function main() {
  const loads: { scenario: string; before: number[]; after: number[]; seconds: number }[] = [];
  const rows: Row[] = [];
  const scalingRows: ScalingRow[] = [];
  const extra: Record<string, unknown> = {};
  const timed = quick ? { warmupMs: 500, durationMs: 2_000 } : { warmupMs: 2_000, durationMs: 10_000 };
  log(`scimcast bench (${quick ? 'quick' : 'full'}), load average ${loadAverages().join(' ')}`);

  const scim = await startScimcast();
  const db = new pg.Pool({ connectionString: scim.databaseUrl, max: 4 });
  const machine = await describeMachine(scim.databaseUrl);
  let peer: Ctx['peer'];
  if (!argv.includes('--no-peer')) {
    const p = await startHelper('bench/baselines/scimmy-server.ts', { BENCH_TOKEN: PEER_TOKEN });
    peer = { ...p, client: makeClient(p.url, { token: PEER_TOKEN, connections: 64 }) };
  }
  const ctx: Ctx = {
    quick,
    log,
    scim,
    db,
    peer,
    timed,
    population: quick ? 10_000 : 100_000,
    bulkOps: 10_000,
    peerBulkOps: quick ? 500 : 1_000,
    ceilings: {},
    peaks: {},
    rows,
    scaling: scalingRows,
    extra,
  };
  const step = async (name: string, fn: (c: Ctx) => Promise<void>) => {
    if (name !== 'ceilings' && !wants(name)) return;
    const before = loadAverages();
    const t0 = performance.now();
    log(`— ${name} (load average ${before.join(' ')})`);
    try {
      await fn(ctx);
    } catch (e) {
      log(`${name} FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      extra[`${name}Error`] = String(e);
      process.exitCode = 1;
    }
    loads.push({ scenario: name, before, after: loadAverages(), seconds: Math.round((performance.now() - t0) / 100) / 10 });
  };
  try {
    await step('ceilings', ceilings);
    await step('creates', creates);
    await step('reads', reads);
    await step('member-add', async (c) => {
      await memberAdd(c);
      await memberAddThroughput(c);
    });
    await step('bulk', bulk);
    await step('password-bulk', passwordBulk);
    await step('async', asyncRequests);
    await step('priority', priority);
    await step('stream-cost', streamCost);
    await step('push-latency', pushLatency);
    await step('push-drain', pushDrain);
    await step('fanout', fanout);
    await step('poll', pollScenario);
    await step('log-cost', logCost);
    await step('api-processes', apiProcesses);
  } finally {
    await peer?.client.close();
    await peer?.stop();
    await db.end();
    await scim.stop();
  }
  await step('scaling', scaling);

  const sizes = (extra.scalingSizes as string[] | undefined) ?? [];
  const totalSecs = (performance.now() - started) / 1000;
  const title = `scimcast bench (${quick ? 'quick' : 'full'}) — ${machine.date}, ${machine.cores} cores (${machine.cpu}), ${machine.memGiB} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres}`;
  const out = [
    '',
    title,
    `load average (1, 5, 15 min) at start ${loads[0]?.before.join(' ')}, at end ${loadAverages().join(' ')}; highest 1-min during a scenario ${Math.max(...loads.flatMap((l) => [l.before[0]!, l.after[0]!])).toFixed(2)}; run took ${(totalSecs / 60).toFixed(1)} min`,
    '',
    markdownTable(rows),
    '',
    ...(rows.some((r) => r.note) ? ['Notes:', ...rows.filter((r) => r.note).map((r) => `- ${r.scenario}: ${r.note}`), ''] : []),
    ...(peerTable(rows) ? ['SCIMMY (peer) figures:', '', peerTable(rows), ''] : []),
    ...(scalingRows.length ? [`Scaling (${sizes.join(' / ')} users):`, '', scalingTable(scalingRows, sizes), ''] : []),
    'Load average per scenario (1-min before → after):',
    loads.map((l) => `${l.scenario} ${l.before[0]} → ${l.after[0]} (${l.seconds} s)`).join('; '),
  ].join('\n');
  console.log(out);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, JSON.stringify({ quick, machine, seconds: totalSecs, loadAverages: loads, ceilings: ctx.ceilings, rows, scaling: scalingRows, extra, table: out }, null, 2));
  console.log(`\nsaved ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
