import { cpuBetween, sampleCpu } from '../lib/cpu.js';
import { runLoad, type LoadResult } from '../lib/load.js';
import { startScimcast, type Scimcast } from '../lib/processes.js';
import { createBody, seedUserName } from '../lib/seed-doc.js';
import { seedUsers } from '../lib/seed.js';
import { summarize } from '../lib/stats.js';
import { fmt, SCIM, type Ctx } from './context.js';
import { FILTERS } from './reads.js';

/**
 * SCIMCAST_API_PROCESSES: `scimcast start` with 1, 2 and 3 API processes, one
 * at a time, each on the main server's embedded PostgreSQL (DATABASE_URL), so every count reads
 * the same 100,000 seeded users and PostgreSQL is the same server with the same cache. Each
 * server gets 64 clients on creates (POST /Users), then on `filter=userName eq` reads. The counts
 * run twice, in the order 1, 2, 3, 3, 2, 1, so a drift of the shared machine cancels; each count's
 * figure pools its two windows. Beside req/s: the CPU per request of scimcast's node processes
 * (primary, API processes and worker) and of PostgreSQL, from /proc.
 */
export async function apiProcesses(ctx: Ctx): Promise<void> {
  const counts = [1, 2, 3];
  const order = [...counts, ...[...counts].reverse()];
  const pop = ctx.population;
  await ensureSeeded(ctx, pop);

  const tag = `ap${Date.now().toString(36)}`;
  const seq = { n: 0 };
  const pooled = new Map<string, { lat: number[]; runs: LoadResult[]; node: number; postgres: number }>();
  const window = async (server: Scimcast, key: string, call: (i: number) => Promise<void>) => {
    if (ctx.timed.warmupMs) await runLoad({ concurrency: 64, durationMs: ctx.timed.warmupMs }, call, seq);
    const p = pooled.get(key) ?? { lat: [], runs: [], node: 0, postgres: 0 };
    pooled.set(key, p);
    const c0 = sampleCpu(server.proc.pid!, undefined);
    const db0 = sampleCpu(ctx.scim.proc.pid!, undefined);
    const r = await runLoad(
      { concurrency: 64, durationMs: ctx.timed.durationMs },
      async (i) => {
        const t = performance.now();
        await call(i);
        p.lat.push(performance.now() - t);
      },
      seq,
    );
    const c = cpuBetween(c0, sampleCpu(server.proc.pid!, undefined));
    p.node += c.api + c.worker;
    p.postgres += cpuBetween(db0, sampleCpu(ctx.scim.proc.pid!, undefined)).postgres;
    if (r.errors) ctx.log(`  ${key}: ${r.errors} errors, first: ${r.firstError}`);
    p.runs.push(r);
  };

  for (const n of order) {
    const server = await startScimcast({ env: { DATABASE_URL: ctx.scim.databaseUrl, SCIMCAST_API_PROCESSES: String(n) } });
    try {
      await window(server, `creates-${n}`, async (i) => void (await server.client.call('POST', `${SCIM}/Users`, { body: createBody(tag, i), expect: 201 })));
      await window(server, `read-eq-${n}`, async () => {
        const i = Math.floor(Math.random() * pop);
        const res = await server.client.json<{ totalResults: number }>('GET', `${SCIM}/Users?filter=${encodeURIComponent(FILTERS.eq.make(i))}`, { expect: 200 });
        if (res.totalResults !== 1) throw new Error(`${FILTERS.eq.make(i)} matched ${res.totalResults}`);
      });
    } finally {
      await server.stop();
    }
  }

  const ceiling = ctx.ceilings.http;
  const pct = (v: number) => (ceiling?.perSec ? `${((v / ceiling.perSec) * 100).toFixed(1)}%` : '—');
  for (const [id, label] of [
    ['creates', 'POST /Users'],
    ['read-eq', `GET /Users?${FILTERS.eq.label}, ${fmt(pop)} users`],
  ] as const) {
    const side: string[] = [];
    for (const n of counts) {
      const p = pooled.get(`${id}-${n}`)!;
      const ops = p.runs.reduce((s, r) => s + r.ops, 0);
      const perSec = ops / p.runs.reduce((s, r) => s + r.seconds, 0);
      const s = summarize(p.lat);
      const cpu = `node ${fmt((p.node / ops) * 1e6)} µs, PostgreSQL ${fmt((p.postgres / ops) * 1e6)} µs CPU per request`;
      side.push(`${n}: ${fmt(perSec)}/s (${pct(perSec)} of ceiling) p50 ${s.p50.toFixed(1)} ms p99 ${s.p99.toFixed(1)} ms`);
      ctx.rows.push({
        id: `api-processes-${id}-${n}`,
        scenario: `${label}, 64 clients, SCIMCAST_API_PROCESSES=${n}`,
        unit: 'req/s',
        scimcast: { perSec, p50: s.p50, p99: s.p99, ops, errors: p.runs.reduce((e, r) => e + r.errors, 0) },
        ceiling,
        note: `${cpu}; windows ${order.join(', ')} (${p.runs.length} pooled)`,
      });
      ctx.extra[`apiProcesses-${id}-${n}`] = { perSec, p50: s.p50, p99: s.p99, ops, nodeCpuUs: (p.node / ops) * 1e6, postgresCpuUs: (p.postgres / ops) * 1e6 };
    }
    ctx.log(`api-processes ${id}: ${side.join('; ')}; hello-world ceiling ${ceiling?.perSec ? fmt(ceiling.perSec) : '—'}/s`);
  }
}

/** The reads scenario seeds the population; run alone, this one seeds it itself. */
async function ensureSeeded(ctx: Ctx, pop: number): Promise<void> {
  const r = await ctx.db.query<{ n: number }>(`select count(*)::int as n from resources where user_name = $1`, [seedUserName(pop - 1)]);
  if (r.rows[0]!.n > 0) return;
  ctx.log(`seeding ${fmt(pop)} users into scimcast (SQL) …`);
  await seedUsers(ctx.db, 0, pop, ctx.log);
}
