import { bulkBody, bulkShape } from '../lib/bulk-body.js';
import { runLoad, runOpenLoop } from '../lib/load.js';
import { createBody } from '../lib/seed-doc.js';
import { waitFor } from '../lib/stats.js';
import { fmt, SCIM, withRss, type Ctx } from './context.js';

const ASYNC = { prefer: 'respond-async' };

/** Unfinished async requests, read from the txns table (the status resource would load every op). */
async function unfinished(ctx: Ctx): Promise<number> {
  const r = await ctx.db.query<{ n: number }>(`select count(*)::int as n from txns where status in ('pending', 'running')`);
  return r.rows[0]!.n;
}

async function txnDone(ctx: Ctx, id: string): Promise<boolean> {
  const r = await ctx.db.query<{ status: string }>('select status from txns where id = $1', [id]);
  return r.rows[0]?.status === 'completed' || r.rows[0]?.status === 'failed';
}

/**
 * Asynchronous requests (RFC 9967 §2.5): admission latency of `Prefer: respond-async` creates
 * under 64 clients (target p99 < 10 ms), the worker's drain of that backlog, then a
 * 10,000-operation async bulk end to end: from sending it to the last operation's result and
 * asyncresp SET committed (the txn turns `completed` in the same transaction).
 */
export async function asyncRequests(ctx: Ctx): Promise<void> {
  const tag = `a${Date.now().toString(36)}`;
  const count = ctx.quick ? 2_000 : 10_000;
  const before = await unfinished(ctx);
  const tAdmit = performance.now();
  const [r, rss] = await withRss(ctx.scim, async () => {
    const res = await runLoad({ concurrency: 64, warmupCount: ctx.quick ? 200 : 1_000, count }, async (i) => {
      const reply = await ctx.scim.client.call('POST', `${SCIM}/Users`, { body: createBody(tag, i), headers: ASYNC, expect: 202 });
      if (!reply.headers['set-txn']) throw new Error('202 without Set-Txn');
    });
    return res;
  });
  ctx.log(`async admission: ${fmt(r.perSec)}/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms; draining ${fmt(await unfinished(ctx))} queued requests …`);
  const drained = await waitFor(async () => (await unfinished(ctx)) <= before, 600_000, 100);
  const drainSecs = (performance.now() - tAdmit) / 1000;
  const total = count + (ctx.quick ? 200 : 1_000);
  ctx.log(`async admission: all ${fmt(total)} applied ${drained ? '' : 'NOT '}within ${drainSecs.toFixed(1)} s of the first (${fmt(total / drainSecs)} single-op requests/s end to end)`);
  ctx.rows.push({
    id: 'async-admission',
    scenario: `POST /Users with Prefer: respond-async → 202, 64 clients, ${fmt(count)} requests`,
    unit: 'req/s',
    scimcast: { ...r, rssMb: rss },
    ceiling: ctx.ceilings.http,
    target: ctx.peaks.creates ? { text: '≥ 2× synchronous creates', met: r.perSec >= 2 * ctx.peaks.creates } : undefined,
    note: `${ctx.peaks.creates ? `${(r.perSec / ctx.peaks.creates).toFixed(2)}× the synchronous creates of this run; ` : ''}the worker applied all ${fmt(total)} in ${drainSecs.toFixed(1)} s from the first admission (${fmt(total / drainSecs)}/s), while admissions went on`,
  });
  ctx.extra.asyncDrain = { requests: total, seconds: drainSecs, drained };

  // The same admissions arriving at a fixed rate, half of the peak just measured: latency as users
  // of an IdP see it, queueing in the generator included (no coordinated omission).
  const rate = Math.max(1, Math.round(r.perSec / 2));
  const [o, openRss] = await withRss(ctx.scim, () =>
    runOpenLoop({ ratePerSec: rate, durationMs: ctx.timed.durationMs ?? 10_000 }, async (i) => void (await ctx.scim.client.call('POST', `${SCIM}/Users`, { body: createBody(`${tag}-o`, i), headers: ASYNC, expect: 202 }))),
  );
  ctx.log(`async admission at ${fmt(rate)}/s (open loop): p50 ${o.p50.toFixed(2)} ms p99 ${o.p99.toFixed(2)} ms`);
  ctx.rows.push({
    id: 'async-admission-open',
    scenario: `POST /Users with Prefer: respond-async → 202, open loop at half the peak (${fmt(rate)}/s)`,
    unit: 'req/s',
    scimcast: { ...o, rssMb: openRss },
    ceiling: ctx.ceilings.http,
    target: { text: 'p99 < 10 ms', met: o.p99 < 10 },
  });
  await waitFor(async () => (await unfinished(ctx)) <= before, 600_000, 100);

  // Async bulk end to end.
  const ops = ctx.quick ? 2_000 : ctx.bulkOps;
  const runs = ctx.quick ? 1 : 2;
  const e2e: number[] = [];
  const admit: number[] = [];
  const [, bulkRss] = await withRss(ctx.scim, async () => {
    for (let k = 0; k < runs; k++) {
      const body = JSON.stringify(bulkBody(`${tag}-b${k}`, ops));
      const t0 = performance.now();
      const reply = await ctx.scim.client.call('POST', `${SCIM}/Bulk`, { body, headers: ASYNC, expect: 202 });
      admit.push(performance.now() - t0);
      const txn = String(reply.headers['set-txn']);
      const ok = await waitFor(() => txnDone(ctx, txn), 900_000, 20);
      if (!ok) throw new Error(`async bulk ${txn} not finished after 15 minutes`);
      e2e.push(performance.now() - t0);
      const failed = await ctx.db.query<{ n: number }>(`select count(*)::int as n from txn_ops where txn_id = $1 and status::int >= 400`, [txn]);
      if (failed.rows[0]!.n > 0) throw new Error(`async bulk ${txn}: ${failed.rows[0]!.n} operations failed`);
      ctx.log(`async bulk run ${k + 1}: 202 in ${admit[k]!.toFixed(0)} ms, all ${fmt(ops)} done in ${(e2e[k]! / 1000).toFixed(1)} s = ${fmt(ops / (e2e[k]! / 1000))} ops/s`);
    }
  });
  const best = Math.min(...e2e);
  const { users, groups } = bulkShape(ops);
  ctx.rows.push({
    id: 'async-bulk',
    scenario: `POST /Bulk respond-async, ${fmt(ops)} ops (${fmt(users)} users, ${fmt(groups)} groups), 202 → last result stored, best of ${runs}`,
    unit: 'ops/s',
    scimcast: { perSec: ops / (best / 1000), p50: best, p99: Math.max(...e2e), ops: ops * runs, rssMb: bulkRss },
    ceiling: ctx.ceilings.insert,
    note: `p50/p99 columns: end-to-end ms (best, slowest); 202 answered in ${admit.map((a) => a.toFixed(0)).join(', ')} ms`,
  });
}
