import { cpuBetween, sampleCpu } from '../lib/cpu.js';
import { runLoad, type LoadResult } from '../lib/load.js';
import { startScimcast, type Scimcast } from '../lib/processes.js';
import { createBody } from '../lib/seed-doc.js';
import { summarize } from '../lib/stats.js';
import { fmt, SCIM, type Ctx } from './context.js';

const LEVELS = ['info', 'warn'] as const;
type Level = (typeof LEVELS)[number];
/** info, warn, warn, info: a drift of the shared machine during the four windows cancels out. */
const ORDER: readonly Level[] = ['info', 'warn', 'warn', 'info'];

/**
 * What the per-request log line costs: two fresh `scimcast start` processes, one at the default
 * LOG_LEVEL=info (one line per request, to /dev/null as in every scenario) and one at warn (no
 * request lines), measured in alternating windows (info, warn, warn, info) with 64 clients on
 * creates (POST /Users) and on the cheapest read (GET /Users/{id} of a user the creates made).
 * Each level's figure pools its two windows. Both servers start empty and do the same work, so the
 * only difference left is the logging. Beside req/s, each level's API-process CPU per request
 * (/proc, the process that logs): on a shared machine it moves less than throughput does.
 */
export async function logCost(ctx: Ctx): Promise<void> {
  const servers = {} as Record<Level, Scimcast>;
  try {
    const [info, warn] = await Promise.all(LEVELS.map((level) => startScimcast({ env: { LOG_LEVEL: level } })));
    servers.info = info!;
    servers.warn = warn!;
    const ids: Record<Level, string[]> = { info: [], warn: [] };
    const tag = `lc${Date.now().toString(36)}`;
    const seq = { n: 0 };
    const creates = await alternate(ctx, servers, async (level, i) => {
      const made = await servers[level].client.json<{ id: string }>('POST', `${SCIM}/Users`, { body: createBody(`${tag}-${level}`, i), expect: 201 });
      ids[level].push(made.id);
    }, seq);
    const reads = await alternate(ctx, servers, async (level) => {
      const list = ids[level];
      await servers[level].client.call('GET', `${SCIM}/Users/${list[Math.floor(Math.random() * list.length)]}`, { expect: 200 });
    });
    for (const [id, label, by] of [
      ['creates', 'POST /Users', creates],
      ['get', 'GET /Users/{id}', reads],
    ] as const) {
      const cost = 1 - by.info.perSec / by.warn.perSec;
      const cpuCost = by.info.apiCpuUs - by.warn.apiCpuUs;
      const said = `info ${fmt(by.info.perSec)}/s, ${fmt(by.info.apiCpuUs)} µs API CPU per request; warn ${fmt(by.warn.perSec)}/s, ${fmt(by.warn.apiCpuUs)} µs`;
      const pct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
      const verdict = `info against warn: req/s ${pct(-cost)}, API CPU per request ${cpuCost >= 0 ? '+' : ''}${fmt(cpuCost)} µs (${pct(cpuCost / by.warn.apiCpuUs)})`;
      ctx.log(`log-cost ${id}: ${said}: ${verdict}`);
      for (const level of LEVELS) {
        ctx.rows.push({
          id: `log-cost-${id}-${level}`,
          scenario: `${label}, 64 clients, LOG_LEVEL=${level} (windows alternate with ${level === 'info' ? 'warn' : 'info'})`,
          unit: 'req/s',
          scimcast: by[level],
          ceiling: ctx.ceilings.http,
          ...(level === 'info' ? { note: `${said}; ${verdict} (windows info, warn, warn, info; ${fmt(by.info.ops)} and ${fmt(by.warn.ops)} requests)` } : {}),
        });
      }
      ctx.extra[`logCost-${id}`] = { info: by.info, warn: by.warn, cost, cpuCostUs: cpuCost };
    }
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
}

interface Combined {
  perSec: number;
  p50: number;
  p99: number;
  ops: number;
  errors: number;
  /** CPU of the API process (the one that logs) per request, µs: steadier than req/s on a shared machine. */
  apiCpuUs: number;
}

/**
 * One window per entry of ORDER, each a warm-up then a measured run of 64 clients calling
 * `call(level, i)`; each level's measured windows are pooled (requests over seconds, percentiles
 * of all their latencies).
 */
async function alternate(ctx: Ctx, servers: Record<Level, Scimcast>, call: (level: Level, i: number) => Promise<void>, seq = { n: 0 }): Promise<Record<Level, Combined>> {
  const out = {} as Record<Level, Combined>;
  const lat: Record<Level, number[]> = { info: [], warn: [] };
  const runs: Record<Level, LoadResult[]> = { info: [], warn: [] };
  const cpu: Record<Level, number> = { info: 0, warn: 0 };
  for (const level of ORDER) {
    if (ctx.timed.warmupMs) await runLoad({ concurrency: 64, durationMs: ctx.timed.warmupMs }, (i) => call(level, i), seq);
    const pid = servers[level].proc.pid!;
    const c0 = sampleCpu(pid, undefined);
    const r = await runLoad(
      { concurrency: 64, durationMs: ctx.timed.durationMs },
      async (i) => {
        const t = performance.now();
        await call(level, i);
        lat[level].push(performance.now() - t);
      },
      seq,
    );
    cpu[level] += cpuBetween(c0, sampleCpu(pid, undefined)).api;
    if (r.errors) ctx.log(`  ${level}: ${r.errors} errors, first: ${r.firstError}`);
    runs[level].push(r);
  }
  for (const level of LEVELS) {
    const rs = runs[level];
    const ops = rs.reduce((s, r) => s + r.ops, 0);
    const s = summarize(lat[level]);
    out[level] = { perSec: ops / rs.reduce((t, r) => t + r.seconds, 0), p50: s.p50, p99: s.p99, ops, errors: rs.reduce((e, r) => e + r.errors, 0), apiCpuUs: (cpu[level] / ops) * 1e6 };
  }
  return out;
}
