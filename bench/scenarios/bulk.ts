import pg from 'pg';
import { rawInsert } from '../baselines/raw-insert.js';
import { bulkBody, bulkShape } from '../lib/bulk-body.js';
import type { Client } from '../lib/client.js';
import { summarize } from '../lib/stats.js';
import { fmt, SCIM, withRss, type Ctx } from './context.js';

/** One synchronous POST /Bulk; every operation must succeed. Returns the elapsed milliseconds. */
export async function timedBulk(client: Client, body: { Operations: unknown[] }): Promise<number> {
  const text = JSON.stringify(body);
  const t0 = performance.now();
  const out = await client.json<{ Operations: { status: string; response?: unknown }[] }>('POST', `${SCIM}/Bulk`, { body: text, expect: 200 });
  const ms = performance.now() - t0;
  const failed = out.Operations.filter((o) => Number(o.status) >= 400);
  if (failed.length > 0 || out.Operations.length !== body.Operations.length) {
    throw new Error(`bulk: ${out.Operations.length} results, ${failed.length} failed: ${JSON.stringify(failed[0]?.response)}`);
  }
  return ms;
}

/**
 * A 10,000-operation bulk (users, then groups naming them by bulkId), scimcast beside the raw
 * multi-row INSERT of the same rows into the same PostgreSQL (runs interleaved, so both see the
 * same machine) and beside SCIMMY. Targets: ≥ 10× the peer and ≥ 50% of the INSERT ceiling.
 * The figure is the median run (operations per second).
 */
export async function bulk(ctx: Ctx): Promise<void> {
  const ops = ctx.bulkOps;
  const runs = ctx.quick ? 1 : 3;
  const { users, groups } = bulkShape(ops);
  const db = new pg.Client({ connectionString: ctx.scim.databaseUrl });
  await db.connect();
  const tag = `b${Date.now().toString(36)}`;
  const bulkMs: number[] = [];
  const rawMs: number[] = [];
  try {
    // Warm-up on both sides: JIT, pools, caches.
    await timedBulk(ctx.scim.client, bulkBody(`${tag}-w`, ctx.quick ? 1_000 : ops));
    await rawInsert(db, `${tag}-wr`, ctx.quick ? 1_000 : ops);
    const [, rss] = await withRss(ctx.scim, async () => {
      for (let r = 0; r < runs; r++) {
        bulkMs.push(await timedBulk(ctx.scim.client, bulkBody(`${tag}-${r}`, ops)));
        rawMs.push(await rawInsert(db, `${tag}-r${r}`, ops));
        ctx.log(`bulk run ${r + 1}: scimcast ${fmt(ops / (bulkMs[r]! / 1000))} ops/s (${fmt(bulkMs[r]!)} ms), raw INSERT ${fmt(ops / (rawMs[r]! / 1000))} ops/s (${fmt(rawMs[r]!)} ms)`);
      }
    });
    const b = summarize(bulkMs);
    const raw = summarize(rawMs);
    ctx.ceilings.insert = { name: 'raw multi-row INSERT', perSec: ops / (raw.p50 / 1000), ops: ops * runs };

    let peer: { name: string; perSec: number; p50: number; ops: number; rssMb: number | undefined } | undefined;
    if (ctx.peer) {
      const p = ctx.peer;
      const peerOps = ctx.peerBulkOps;
      const [pms, prss] = await withRss(p, () => timedBulk(p.client, bulkBody(`${tag}-p`, peerOps)));
      peer = { name: 'SCIMMY', perSec: peerOps / (pms / 1000), p50: pms, ops: peerOps, rssMb: prss };
      ctx.log(`bulk: SCIMMY ${fmt(peer.perSec)} ops/s (${fmt(pms)} ms for ${fmt(peerOps)} operations)`);
    }
    const perSec = ops / (b.p50 / 1000);
    ctx.rows.push({
      id: 'bulk',
      scenario: `POST /Bulk, ${fmt(ops)} ops (${fmt(users)} users, then ${fmt(groups)} groups of 10 by bulkId), median of ${runs}`,
      unit: 'ops/s',
      scimcast: { perSec, p50: b.p50, p99: b.max, ops: ops * runs, rssMb: rss },
      peer,
      ceiling: ctx.ceilings.insert,
      target: { text: '≥ 10× peer and ≥ 50% of INSERT', met: peer ? perSec >= 10 * peer.perSec && perSec >= 0.5 * ctx.ceilings.insert.perSec! : undefined },
      note: `p50/p99 columns: whole-request time in ms (median, slowest of ${runs})${peer && ctx.peerBulkOps !== ops ? `; SCIMMY measured at ${fmt(ctx.peerBulkOps)} operations` : ''}`,
    });
  } finally {
    await db.end();
  }
}
