/**
 * npm run bench:fanout-profile: where the time of the fan-out goes. Starts `scimcast start` with
 * V8's CPU profiler on (the API and the worker process each write a profile), attaches ten poll
 * streams, lets the bulk of N creates commit, then times the fan-out alone: the bulk runs while
 * the worker's fan-out is still busy with the warm-up, so the window is from the bulk's answer to
 * the last SET stored. Prints the rate beside this run's ES256 signing ceiling and each process's
 * self time by module and by function over that window. Raw profiles stay in bench/results/.
 *
 * Options: --changes=N (default 10,000).
 */
import { mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import pg from 'pg';
import { es256PerSecond } from './baselines/es256.js';
import { bulkBody } from './lib/bulk-body.js';
import { analyse, profilesIn } from './lib/cpu-profile.js';
import { ROOT, startScimcast } from './lib/processes.js';
import { storedSets, waitStored } from './lib/receiver.js';
import { createStream, POLL } from './scenarios/streams.js';

const changes = Number(process.argv.find((a) => a.startsWith('--changes='))?.slice(10) ?? 10_000);
const STREAMS = 10;
const profDir = join(tmpdir(), `scimcast-fanout-prof-${process.pid}`);
mkdirSync(profDir, { recursive: true });

async function main() {
  const scim = await startScimcast({ nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  const db = new pg.Pool({ connectionString: scim.databaseUrl, max: 2 });
  const report: string[] = [];
  let from = 0;
  let to = 0;
  try {
    const c = scim.client;
    const streams: string[] = [];
    for (let k = 0; k < STREAMS; k++) streams.push(await createStream(c, { delivery: { method: POLL } }));
    const es = await es256PerSecond(2_000);
    const base = await storedSets(db, streams);
    const tag = `fp${Date.now().toString(36)}`;
    await c.call('POST', '/scim/v2/Bulk', { body: bulkBody(tag, changes, { groups: false }), expect: 200 });
    const atAnswer = await storedSets(db, streams);
    from = Number(process.hrtime.bigint() / 1000n);
    const t0 = performance.now();
    const done = await waitStored(db, streams, base + changes * STREAMS);
    to = Number(process.hrtime.bigint() / 1000n);
    const sets = base + changes * STREAMS - atAnswer;
    const perSec = sets / ((done - t0) / 1000);
    report.push(`fan-out after the bulk's answer: ${sets} SETs in ${((done - t0) / 1000).toFixed(2)} s = ${Math.round(perSec)} SETs/s; jose ES256 ${Math.round(es.perSec)}/s → ${(perSec / es.perSec).toFixed(2)}× (${atAnswer - base} were stored while the bulk ran)`);
  } finally {
    await db.end();
    await scim.stop();
  }
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  for (const p of profilesIn(profDir)) {
    const a = analyse(p.profile, from, to);
    const kept = join(dir, `fanout-${p.pid}-${basename(p.file)}`);
    renameSync(p.file, kept);
    report.push('', `process ${p.pid}: ${a.sampledMs.toFixed(0)} ms on CPU in the ${a.windowMs.toFixed(0)} ms window`, 'self time by module:', ...a.modules.slice(0, 12), 'self time by function (top 20):', ...a.functions.slice(0, 20), `profile: ${kept}`);
  }
  console.log(report.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
