/**
 * npm run bench:log-profile: what the per-request log line costs the API process. Starts `scimcast
 * start` at the default LOG_LEVEL (info; stdout to /dev/null as in the bench) with V8's CPU
 * profiler on, runs 64 clients of creates (POST /Users) and then of reads (GET /Users/{id}), and
 * prints for each window the share of the API process's busy time spent under a logging frame
 * (pino, sonic-boom, redaction, serializers, fastify's logger glue, src/http/log-options.ts; the
 * write syscall under them included) with the top self-time frames in it. The raw profile stays in
 * bench/results/ for Chrome DevTools.
 *
 * Options: --seconds=N per window (default 8), --level=L (default info).
 */
import { mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { inclusive, profilesIn, type ProfileNode } from './lib/cpu-profile.js';
import { runLoad } from './lib/load.js';
import { ROOT, startScimcast } from './lib/processes.js';
import { createBody } from './lib/seed-doc.js';

const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 8);
const level = process.argv.find((a) => a.startsWith('--level='))?.slice(8) ?? 'info';
const profDir = join(tmpdir(), `scimcast-log-prof-${process.pid}`);
mkdirSync(profDir, { recursive: true });

const LOGGING = /node_modules\/(pino|sonic-boom|@pinojs|pino-std-serializers|safe-stable-stringify|on-exit-leak-free)\/|node_modules\/fastify\/lib\/logger|src\/http\/(log-options|log-sink|request-log)\.ts/;
const isLogging = (cf: ProfileNode['callFrame']) => LOGGING.test(cf.url) || /^(asReqValue|asResValue)$/.test(cf.functionName);

const now = () => Number(process.hrtime.bigint() / 1000n);

async function main() {
  const scim = await startScimcast({ env: { LOG_LEVEL: level }, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  const windows: Array<{ name: string; from: number; to: number; perSec: number }> = [];
  const ids: string[] = [];
  try {
    const c = scim.client;
    const tag = `lp${Date.now().toString(36)}`;
    const timed = async (name: string, fn: (i: number) => Promise<void>) => {
      await runLoad({ concurrency: 64, durationMs: 1_000 }, fn);
      const from = now();
      const r = await runLoad({ concurrency: 64, durationMs: seconds * 1000 }, fn);
      windows.push({ name, from, to: now(), perSec: r.perSec });
    };
    await timed('POST /Users', async (i) => void ids.push((await c.json<{ id: string }>('POST', '/scim/v2/Users', { body: createBody(tag, i), expect: 201 })).id));
    await timed('GET /Users/{id}', async () => void (await c.call('GET', `/scim/v2/Users/${ids[Math.floor(Math.random() * ids.length)]}`, { expect: 200 })));
  } finally {
    await scim.stop();
  }
  const api = profilesIn(profDir).find((p) => p.pid === scim.proc.pid);
  if (!api) throw new Error(`no CPU profile of the API process ${scim.proc.pid} in ${profDir}`);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const kept = join(dir, `log-${level}-${basename(api.file)}`);
  renameSync(api.file, kept);
  const report: string[] = [`LOG_LEVEL=${level}, 64 clients, ${seconds} s per window; API process ${scim.proc.pid}`];
  for (const w of windows) {
    const a = inclusive(api.profile, w.from, w.to, isLogging);
    report.push(
      '',
      `${w.name}: ${Math.round(w.perSec)}/s; API busy ${a.busyMs.toFixed(0)} ms, under logging frames ${a.matchedMs.toFixed(0)} ms = ${(a.share * 100).toFixed(1)}% (${((a.matchedMs * 1000) / (w.perSec * ((w.to - w.from) / 1e6))).toFixed(0)} µs per request)`,
      'self time under logging frames (share of busy time):',
      ...a.top,
    );
  }
  report.push('', `profile: ${kept}`);
  console.log(report.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
