/**
 * Push latency and drain, quickly: `scimcast serve --no-worker` and `scimcast worker` as separate
 * processes on a fresh embedded PostgreSQL, a loopback receiver in this process answering 202.
 * - a create every 250 ms on an idle stream: the loop is woken by the commit's NOTIFY;
 * - open-loop creates at 50/s and 150/s (fixed arrival rate): create response → receiver, and
 *   request sent → receiver (the commit lies between the two);
 * - a 5,000-SET backlog drained in order and with max_in_flight 64.
 * `npx tsx bench/push-latency.ts [--drain-only]`. Not part of `npm run bench`.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startEmbeddedPostgres } from '../src/storage/embedded.js';

const ROOT = join(import.meta.dirname, '..');
const TOKEN = 'latency-token-0123456789';
const pg = await startEmbeddedPostgres({ dataDir: mkdtempSync(join(tmpdir(), 'lat-')) });
const url = pg.url('scimcast');
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const env = { ...process.env, DATABASE_URL: url, BASE_URL: base, LOG_LEVEL: 'warn', SCIMCAST_BOOTSTRAP_TOKEN: TOKEN };
const api = spawn(process.execPath, ['bin/scimcast.js', 'serve', '--no-worker', '--port', String(port)], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
for (;;) { try { if ((await fetch(`${base}/healthz`)).ok) break; } catch {} await new Promise((r) => setTimeout(r, 200)); }
const worker = spawn(process.execPath, ['bin/scimcast.js', 'worker'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });

const arrivals = new Map<string, number>();
const rec = createServer((req, res) => {
  let b = '';
  req.on('data', (c) => (b += c));
  req.on('end', () => {
    const at = performance.now();
    const claims = JSON.parse(Buffer.from(b.split('.')[1]!, 'base64url').toString());
    const uri = claims.sub_id?.uri as string | undefined;
    if (uri && !arrivals.has(uri)) arrivals.set(uri, at);
    res.writeHead(202).end();
  });
});
await new Promise<void>((r) => rec.listen(0, '127.0.0.1', r));
const recUrl = `http://127.0.0.1:${(rec.address() as any).port}/events`;
const h = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' };
const s = await fetch(`${base}/ssf/streams`, { method: 'POST', headers: h, body: JSON.stringify({ delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: recUrl }, events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] }) });
if (s.status !== 201) throw new Error(await s.text());
let s1 = ((await s.json()) as { stream_id: string }).stream_id;

let k = 0;
async function create(): Promise<{ uri: string; sent: number; answered: number }> {
  const sent = performance.now();
  const r = await fetch(`${base}/scim/v2/Users`, { method: 'POST', headers: h, body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `lat-${k++}` }) });
  const answered = performance.now();
  const j = (await r.json()) as { id: string };
  return { uri: `/Users/${j.id}`, sent, answered };
}
const pct = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!.toFixed(1);

async function phase(name: string, rate: number, seconds: number) {
  const done: Promise<{ uri: string; sent: number; answered: number }>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < rate * seconds; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    done.push(create());
  }
  const rs = await Promise.all(done);
  const end = performance.now() + 20_000;
  while (rs.some((r) => !arrivals.has(r.uri)) && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
  const lo = rs.map((r) => arrivals.get(r.uri)! - r.answered);
  const hi = rs.map((r) => arrivals.get(r.uri)! - r.sent);
  const missing = rs.filter((r) => !arrivals.has(r.uri)).length;
  console.log(`${name}: ${rs.length} creates at ${rate}/s; response→receiver p50 ${pct(lo, 50)} p99 ${pct(lo, 99)} max ${pct(lo, 100)} ms; request-sent→receiver p50 ${pct(hi, 50)} p99 ${pct(hi, 99)} ms; missing ${missing}`);
}

await create(); // warm
await new Promise((r) => setTimeout(r, 3000));
const idle: number[] = [];
for (let i = 0; i < 20; i++) {
  await new Promise((r) => setTimeout(r, 250));
  const r = await create();
  while (!arrivals.has(r.uri)) await new Promise((x) => setImmediate(x));
  idle.push(arrivals.get(r.uri)! - r.answered);
}
console.log(`idle stream, one create every 250 ms: response→receiver p50 ${pct(idle, 50)} max ${pct(idle, 100)} ms`);
if (!process.argv.includes('--drain-only')) {
  await phase('open loop', 50, 10);
  await phase('open loop', 150, 10);
}
for (const win of [1, 64]) {
  const r = await fetch(`${base}/ssf/streams`, { method: 'POST', headers: h, body: JSON.stringify({ delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: recUrl }, events_requested: ['urn:ietf:params:scim:event:prov:create:notice'], max_in_flight: win }) });
  const sid = ((await r.json()) as { stream_id: string }).stream_id;
  // Only this stream: the first one is deleted so its SETs do not share the receiver.
  await fetch(`${base}/ssf/streams?stream_id=${s1}`, { method: 'DELETE', headers: h });
  s1 = sid;
  await fetch(`${base}/ssf/status`, { method: 'POST', headers: h, body: JSON.stringify({ stream_id: sid, status: 'paused' }) });
  const N = 5000;
  const ops = Array.from({ length: N }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `drain-${win}-${i}` } }));
  const b = await fetch(`${base}/scim/v2/Bulk`, { method: 'POST', headers: h, body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: ops }) });
  if (b.status !== 200) throw new Error(String(b.status));
  arrivals.clear();
  const t0 = performance.now();
  await fetch(`${base}/ssf/status`, { method: 'POST', headers: h, body: JSON.stringify({ stream_id: sid, status: 'enabled' }) });
  while (arrivals.size < N) await new Promise((x) => setTimeout(x, 10));
  console.log(`drain ${N} SETs, max_in_flight ${win}: ${Math.round(N / ((performance.now() - t0) / 1000))} SETs/s`);
}
api.kill('SIGTERM');
worker.kill('SIGTERM');
await new Promise((r) => setTimeout(r, 3000));
rec.close();
await pg.stop();
process.exit(0);
