/**
 * npm run bench [-- --quick]: scimcast measured beside this machine's ceilings in the same run,
 * printed as ratios (issue 9). Production settings: embedded PostgreSQL with durable commits.
 * Scenarios grow with the features; today: single creates and reads vs a fastify hello-world.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { createToken } from '../src/auth/authenticate.js';
import { SCOPES } from '../src/auth/scopes.js';
import { loadConfig } from '../src/config/load.js';
import { startScimcast } from '../src/main.js';
import { freePort } from '../src/storage/embedded.js';

const quick = process.argv.includes('--quick');
const DURATION_MS = quick ? 3_000 : 10_000;
const WARMUP_MS = quick ? 500 : 2_000;

interface Result {
  name: string;
  ops: number;
  perSec: number;
  p50: number;
  p99: number;
}

let seq = 0;

async function load(name: string, concurrency: number, fn: (i: number) => Promise<void>): Promise<Result> {
  const run = async (ms: number, record: boolean) => {
    const lat: number[] = [];
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          await fn(seq++);
          if (record) lat.push(performance.now() - t0);
        }
      }),
    );
    return lat;
  };
  await run(WARMUP_MS, false);
  const t0 = performance.now();
  const lat = await run(DURATION_MS, true);
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0;
  return { name, ops: lat.length, perSec: lat.length / secs, p50: q(0.5), p99: q(0.99) };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'scimcast-bench-'));
  const port = await freePort();
  const config = loadConfig({ SCIMCAST_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'silent', BASE_URL: `http://127.0.0.1:${port}` });
  const running = await startScimcast(config, { api: true, worker: true, logger: false });
  const { token } = await createToken(running.deps.storage, running.deps.clock, { name: 'bench', scopes: SCOPES });
  const base = `http://127.0.0.1:${port}/scim/v2`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' };

  const hello = Fastify();
  hello.get('/', async () => ({ hello: 'world' }));
  const helloUrl = await hello.listen({ port: 0, host: '127.0.0.1' });

  const tag = Date.now().toString(36);
  const results: Result[] = [];
  results.push(await load('ceiling: fastify hello-world GET', 64, async () => void (await (await fetch(helloUrl)).arrayBuffer())));
  results.push(
    await load('scimcast: POST /Users (64 clients)', 64, async (i) => {
      const r = await fetch(`${base}/Users`, { method: 'POST', headers, body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `b-${tag}-${i}` }) });
      await r.arrayBuffer();
      if (r.status !== 201) throw new Error(`create failed: ${r.status}`);
    }),
  );
  results.push(
    await load('scimcast: GET /Users?filter=userName eq (64 clients)', 64, async (i) => {
      const r = await fetch(`${base}/Users?filter=${encodeURIComponent(`userName eq "b-${tag}-${i % 1000}"`)}`, { headers });
      await r.arrayBuffer();
    }),
  );
  const rss = process.memoryUsage().rss;
  await hello.close();
  await running.stop();

  const ceiling = results[0]!.perSec;
  console.log(`\nscimcast bench (${quick ? 'quick' : 'full'}) — ${new Date().toISOString()}, Node ${process.version}, embedded PostgreSQL 18, fsync on`);
  console.log('| scenario | ops | ops/s | p50 ms | p99 ms | ratio to HTTP ceiling |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results) console.log(`| ${r.name} | ${r.ops} | ${r.perSec.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.perSec / ceiling).toFixed(2)} |`);
  console.log(`process peak RSS (server and load generator share it): ${(rss / 1048576).toFixed(0)} MiB`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/bench-${Date.now()}.json`, JSON.stringify({ quick, results, rss }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
