import { bulkBody } from '../lib/bulk-body.js';
import { createBody } from '../lib/seed-doc.js';
import { sleep, summarize, waitFor } from '../lib/stats.js';
import { fmt, SCIM, type Ctx } from './context.js';

async function done(ctx: Ctx, txn: string): Promise<boolean> {
  const r = await ctx.db.query<{ status: string }>('select status from txns where id = $1', [txn]);
  return r.rows[0]?.status === 'completed' || r.rows[0]?.status === 'failed';
}

const unfinished = async (ctx: Ctx) => (await ctx.db.query<{ n: number }>(`select count(*)::int as n from txns where status in ('pending', 'running')`)).rows[0]!.n;

/**
 * `Prefer: respond-async, priority=high` while bulks hold every worker slot (the default
 * SCIMCAST_WORKER_CONCURRENCY of 4, so 4 async bulks): single creates sent one at a time, each
 * timed from sending it to its result and asyncresp SET committed (the txn turns `completed` in the
 * same transaction). The same for normal-priority ones, which wait behind the bulks.
 */
export async function priority(ctx: Ctx): Promise<void> {
  const tag = `p${Date.now().toString(36)}`;
  const slots = 4;
  const ops = ctx.quick ? 2_000 : 5_000;
  const samples = ctx.quick ? 10 : 30;
  const bulks: string[] = [];
  for (let k = 0; k < slots; k++) {
    const reply = await ctx.scim.client.call('POST', `${SCIM}/Bulk`, { body: JSON.stringify(bulkBody(`${tag}-b${k}`, ops)), headers: { prefer: 'respond-async' }, expect: 202 });
    bulks.push(String(reply.headers['set-txn']));
  }
  const bulksRunning = () => Promise.all(bulks.map((b) => done(ctx, b))).then((d) => d.some((x) => !x));
  await sleep(500); // the bulks have their slots
  const timeOne = async (i: number, prio: string) => {
    const t0 = performance.now();
    const reply = await ctx.scim.client.call('POST', `${SCIM}/Users`, { body: createBody(`${tag}-${prio}`, i), headers: { prefer: `respond-async, priority=${prio}` }, expect: 202 });
    const txn = String(reply.headers['set-txn']);
    await waitFor(() => done(ctx, txn), 600_000, 2);
    return { ms: performance.now() - t0, duringBulk: await bulksRunning() };
  };
  // A normal-priority request sent now waits behind what the bulks still have to do: the contrast.
  const normalRun = timeOne(0, 'normal');
  const high: number[] = [];
  let highDuring = 0;
  for (let i = 0; i < samples; i++) {
    const r = await timeOne(i, 'high');
    high.push(r.ms);
    if (r.duringBulk) highDuring++;
    await sleep(100);
  }
  const normal = await normalRun;
  await waitFor(async () => (await unfinished(ctx)) === 0, 900_000, 200);
  const h = summarize(high);
  ctx.log(`priority: high 202 → asyncresp p50 ${h.p50.toFixed(1)} ms p99 ${h.p99.toFixed(1)} ms (${highDuring}/${samples} while the bulks ran); one normal: ${fmt(normal.ms)} ms`);
  ctx.rows.push({
    id: 'async-priority-high',
    scenario: `POST /Users respond-async priority=high while ${slots} async bulks of ${fmt(ops)} ops hold every worker slot: 202 → asyncresp committed`,
    unit: 'ms',
    scimcast: { p50: h.p50, p99: h.p99, ops: samples },
    note: `${highDuring} of ${samples} high-priority requests finished while a bulk was still running; a normal-priority request sent before them took ${fmt(normal.ms)} ms${normal.duringBulk ? ' (it finished while a bulk still ran)' : ' (it waited for the bulks)'}`,
  });
}
