import pg from 'pg';
import { startScimcast } from '../lib/processes.js';
import type { Figure, ScalingRow } from '../lib/report.js';
import { seedGroup, seedUsers } from '../lib/seed.js';
import { fmt, type Ctx } from './context.js';
import { memberAddLatency, probeUser } from './member-add.js';
import { filteredReads, FILTERS } from './reads.js';

export const sizeLabel = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}k` : String(n));

/**
 * Scaling: the filtered reads and the member add at 10k, 100k and 1M resources on a
 * fresh server of their own, to show whether the cost grows with size. Reads use 4 clients (the
 * cost of one query, not queueing behind 64); member add one client. --quick uses 1k and 10k.
 */
export async function scaling(ctx: Ctx): Promise<void> {
  const sizes = ctx.quick ? [1_000, 10_000] : [10_000, 100_000, 1_000_000];
  const scim = await startScimcast();
  const db = new pg.Pool({ connectionString: scim.databaseUrl, max: 2 });
  const rows: Record<string, ScalingRow> = {
    eq: { id: 'scale-read-eq', scenario: `GET /Users?${FILTERS.eq.label}, 4 clients`, bySize: {} },
    co: { id: 'scale-read-co', scenario: `GET /Users?${FILTERS.co.label}, 4 clients`, bySize: {} },
    add: { id: 'scale-member-add', scenario: 'PATCH add 1 member to a group of all N users, 1 client', bySize: {} },
  };
  try {
    const probe = await probeUser(scim.client, 'scaling-probe');
    let seeded = 0;
    for (const size of sizes) {
      const label = sizeLabel(size);
      ctx.log(`scaling ${label}: seeding users ${fmt(seeded)} → ${fmt(size)} …`);
      const secs = await seedUsers(db, seeded, size, ctx.log);
      seeded = size;
      const t0 = performance.now();
      const group = await seedGroup(db, `all-${size}`, size);
      ctx.log(`scaling ${label}: users seeded in ${secs.toFixed(1)} s, a ${fmt(size)}-member group in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const load = { concurrency: 4, warmupCount: 8, durationMs: ctx.quick ? 2_000 : 5_000 };
      for (const kind of ['eq', 'co'] as const) {
        const r = await filteredReads(scim.client, scim, kind, size, load);
        rows[kind]!.bySize[label] = r satisfies Figure;
        ctx.log(`scaling ${label} ${kind}: ${fmt(r.perSec)}/s p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms${r.errors ? ` (${r.errors} errors: ${r.firstError})` : ''}`);
      }
      const m = await memberAddLatency(scim.client, scim, group, probe, ctx.quick ? 50 : 200, 20);
      rows.add!.bySize[label] = m.add;
      ctx.log(`scaling ${label} member add: p50 ${m.add.p50.toFixed(2)} ms p99 ${m.add.p99.toFixed(2)} ms`);
    }
  } finally {
    await db.end();
    await scim.stop();
  }
  const first = sizeLabel(sizes[0]!);
  const last = sizeLabel(sizes[sizes.length - 1]!);
  const flat = (r: ScalingRow) => (r.bySize[last]?.p50 ?? Infinity) <= 2 * (r.bySize[first]?.p50 ?? 0);
  for (const r of Object.values(rows)) {
    r.target = { text: `p50 at ${last} ≤ 2× p50 at ${first}`, met: flat(r) };
    ctx.scaling.push(r);
  }
  ctx.extra.scalingSizes = sizes.map(sizeLabel);
}
