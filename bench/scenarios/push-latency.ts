import { runLoad, runOpenLoop } from '../lib/load.js';
import { startReceiver } from '../lib/receiver.js';
import { createBody } from '../lib/seed-doc.js';
import { summarize } from '../lib/stats.js';
import { fmt, SCIM, withRss, type Ctx } from './context.js';
import { attachStreams } from './stream-cost.js';
import { deleteStreams } from './streams.js';

/**
 * Commit → receiver 202 with one push stream, at a fixed arrival rate (open loop, lib/load.ts
 * runOpenLoop): half the peak create rate, then the peak itself. The peak is the rate of creates
 * from 64 closed-loop clients with one push stream attached, taken from the stream-cost scenario
 * of the same run (or measured here first when that scenario did not run).
 *
 * The measure, per create: the receiver's clock when it answered 202 to the SET about the new
 * user (the receiver keys it by the SET's sub_id, the user's id), minus the client's clock when
 * the create's 201 arrived; both are Date.now() on one machine. The 201 is the earliest moment
 * the outside can see that the change committed, and the commit came before it, so the figure is
 * at most the true commit → 202 time, short of it by the time the 201 took to travel back
 * (under a millisecond on loopback unless the server is saturated). The alternatives were worse:
 * the time the request was sent would add the create's own queueing and durable commit, which
 * the creates rows already measure; and the `events` table's `created_at`, or a time inside the
 * `jti`, is a moment the server picks, which moves when signing moves out of the write
 * transaction, so it would not compare before and after that change. A SET that arrives before
 * its create's 201 counts as 0 ms or less (the SET was pushed faster than the answer travelled).
 *
 * Targets: at half the peak p50 < 25 ms and p99 < 100 ms; at the peak p99 < 500 ms.
 */
export async function pushLatency(ctx: Ctx): Promise<void> {
  const c = ctx.scim.client;
  const receiver = await startReceiver();
  const streams = await attachStreams(ctx, receiver, 1, 0);
  const tag = `pl${Date.now().toString(36)}`;
  const baseMs = ctx.quick ? 4_000 : ctx.timed.durationMs!;
  // A p99 wants a few hundred samples: a slow machine gets a longer window (up to 30 s).
  const windowMs = (rate: number) => Math.min(30_000, Math.max(baseMs, (400 / rate) * 1000));
  const create = async (label: string, i: number) => (await c.json<{ id: string }>('POST', `${SCIM}/Users`, { body: createBody(`${tag}-${label}`, i), expect: 201 })).id;
  // Every SET made so far is out before a window opens, so a window never waits behind another.
  let made = 0;
  const settle = async () => {
    await receiver.resourceSets(made);
    await receiver.reset();
    made = 0;
  };
  try {
    await receiver.reset();
    let peak = ctx.peaks.createsWithPush;
    if (peak === undefined) {
      const r = await runLoad({ concurrency: 64, ...ctx.timed }, async (i) => void (await create('closed', i), made++));
      peak = r.perSec;
      ctx.log(`peak creates with one push stream (64 clients): ${fmt(peak)}/s`);
    }
    for (const [share, label] of [
      [0.5, 'half'],
      [1, 'peak'],
    ] as const) {
      const rate = share * peak;
      await runOpenLoop({ ratePerSec: rate, durationMs: ctx.timed.warmupMs! }, async (i) => void (await create(`${label}-w`, i), made++));
      await settle();
      const answered = new Map<string, number>();
      const [load, rssMb] = await withRss(ctx.scim, () =>
        runOpenLoop({ ratePerSec: rate, durationMs: windowMs(rate) }, async (i) => {
          const id = await create(label, i);
          answered.set(id, Date.now());
        }),
      );
      made = answered.size;
      const st = await receiver.resourceSets(answered.size, { ms: 120_000, times: true }).catch(() => receiver.stats({ times: true }));
      const times = st.times ?? {};
      // A SET that never came counts as infinitely late: it fails the percentile it falls in.
      const lat = [...answered].map(([id, at]) => (times[id] === undefined ? Infinity : times[id] - at));
      const missing = lat.filter((v) => v === Infinity).length;
      const s = summarize(lat);
      ctx.log(
        `push latency at ${label} rate ${fmt(rate)}/s: ${fmt(load.perSec)} creates/s answered, create p50 ${load.p50.toFixed(1)} ms p99 ${load.p99.toFixed(1)} ms; 201 → 202 p50 ${s.p50} ms p99 ${s.p99} ms max ${s.max} ms${missing ? `; ${missing} SETs missing` : ''}`,
      );
      ctx.rows.push({
        id: `push-latency-${label}`,
        scenario: `create 201 → push receiver 202, one push stream, open loop at ${label === 'half' ? 'half the' : 'the'} peak create rate (${fmt(rate)}/s)`,
        unit: 'creates/s',
        scimcast: { perSec: load.perSec, p50: s.p50, p99: s.p99, ops: load.ops, errors: load.errors + missing, rssMb },
        ceiling: { name: 'peak creates, one push stream, 64 clients', perSec: peak },
        target: label === 'half' ? { text: 'p50 < 25 ms, p99 < 100 ms', met: s.p50 < 25 && s.p99 < 100 } : { text: 'p99 < 500 ms', met: s.p99 < 500 },
        note: `p50/p99: create's 201 at the client → SET's 202 at the receiver; the creates themselves took p50 ${load.p50.toFixed(1)} ms, p99 ${load.p99.toFixed(1)} ms from their scheduled send${missing ? `; ${missing} SETs had not arrived 120 s after the window` : ''}${load.firstError ? `; first error: ${load.firstError.slice(0, 120)}` : ''}`,
      });
      ctx.extra[`pushLatency-${label}`] = { rate, creates: load, latency: s, missing };
    }
  } finally {
    await deleteStreams(c, streams);
    await receiver.stop();
  }
}
