import { runLoad, type LoadResult } from '../lib/load.js';
import { startReceiver, type Receiver } from '../lib/receiver.js';
import { cpuBetween, sampleCpu, type CpuSample } from '../lib/cpu.js';
import { createBody } from '../lib/seed-doc.js';
import { fmt, SCIM, withRss, type Ctx } from './context.js';
import { createStream, deleteStreams, POLL, PUSH } from './streams.js';

const larger = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.max(a, b));

type Window = LoadResult & { rssMb: number | undefined; cpu: CpuSample };

/**
 * Single creates from 64 clients, as in the creates scenario; returns the figure, peak RSS and the
 * CPU each process used during the window (warm-up included on both sides of the ratio).
 */
async function createWindow(ctx: Ctx, tag: string, receiver: Receiver): Promise<Window> {
  const c0 = sampleCpu(ctx.scim.proc.pid!, receiver.proc.pid);
  const [r, rssMb] = await withRss(ctx.scim, () =>
    runLoad({ concurrency: 64, ...ctx.timed }, async (i) => void (await ctx.scim.client.call('POST', `${SCIM}/Users`, { body: createBody(tag, i), expect: 201 }))),
  );
  return { ...r, rssMb, cpu: cpuBetween(c0, sampleCpu(ctx.scim.proc.pid!, receiver.proc.pid)) };
}

/** CPU milliseconds per create answered, by process: where a window's two cores went. */
function cpuPerCreate(w: Window): string {
  const per = (sec: number) => ((sec * 1000) / Math.max(1, w.ops)).toFixed(2);
  const c = w.cpu;
  return `CPU ms per create: API ${per(c.api)}, worker ${per(c.worker)}, PostgreSQL ${per(c.postgres)}, receiver ${per(c.receiver)}, load generator ${per(c.bench)}`;
}

/** Push streams to the receiver (each on its own path) and poll streams, all for user creates. */
export async function attachStreams(ctx: Ctx, receiver: Receiver, push: number, poll: number): Promise<string[]> {
  const ids: string[] = [];
  for (let k = 0; k < push; k++) ids.push(await createStream(ctx.scim.client, { delivery: { method: PUSH, endpoint_url: `${receiver.url}/${k}` } }));
  for (let k = 0; k < poll; k++) ids.push(await createStream(ctx.scim.client, { delivery: { method: POLL } }));
  return ids;
}

/** The mean figure of several windows of one configuration: rate and p50 averaged, p99 the largest. */
function pooled(ws: readonly Window[]): LoadResult & { rssMb: number | undefined } {
  const mean = (f: (w: LoadResult) => number) => ws.reduce((a, w) => a + f(w), 0) / ws.length;
  return {
    ...ws[0]!,
    perSec: mean((w) => w.perSec),
    p50: mean((w) => w.p50),
    p99: Math.max(...ws.map((w) => w.p99)),
    ops: ws.reduce((a, w) => a + w.ops, 0),
    errors: ws.reduce((a, w) => a + w.errors, 0),
    rssMb: ws.map((w) => w.rssMb).reduce(larger, undefined),
  };
}

/**
 * What streams cost the writer: creates from 64 clients with no stream, with one push stream to a
 * loopback receiver answering 202 (in its own process), and with ten streams. The ten are 5 push
 * streams to that receiver and 5 poll streams nobody polls during the window, so the figure holds
 * both the fan-out and signing every stream costs and the delivery that push adds; poll's reads
 * are the receiver's own cost and belong to the poll scenario.
 *
 * The windows run in the order none, one, ten, ten, one, none, and each configuration's figure is
 * the mean of its two windows: every configuration then sits at the same mean time in the run, so
 * drift of the machine and the growing users table (which moved single 10-second windows by 25%)
 * falls equally on all three. Between configurations the streams are deleted (their pending SETs
 * with them) and the receiver is let go quiet, so no window pays for the one before it.
 *
 * Targets: one push stream ≥ 0.9× no stream; ten streams ≥ 0.8× no stream.
 */
export async function streamCost(ctx: Ctx): Promise<void> {
  const receiver = await startReceiver();
  const tag = `sc${Date.now().toString(36)}`;
  let streams: string[] = [];
  const shapes = { none: [0, 0], one: [1, 0], ten: [5, 5] } as const;
  const label = { none: 'no stream', one: 'one push stream', ten: 'ten streams (5 push, 5 poll)' };
  const windows: Record<keyof typeof shapes, Window[]> = { none: [], one: [], ten: [] };
  try {
    let attached: keyof typeof shapes = 'none';
    for (const [k, shape] of (['none', 'one', 'ten', 'ten', 'one', 'none'] as const).entries()) {
      if (shape !== attached) {
        await deleteStreams(ctx.scim.client, streams);
        streams = [];
        await receiver.quiet();
        streams = await attachStreams(ctx, receiver, shapes[shape][0], shapes[shape][1]);
        attached = shape;
      }
      const w = await createWindow(ctx, `${tag}-${k}`, receiver);
      windows[shape].push(w);
      ctx.log(`creates, ${label[shape]}: ${fmt(w.perSec)}/s p50 ${w.p50.toFixed(1)} ms p99 ${w.p99.toFixed(1)} ms; ${cpuPerCreate(w)}`);
    }
    const before = windows.none[0]!;
    const after = windows.none[1]!;
    const none = pooled(windows.none);
    const one = pooled(windows.one);
    const ten = pooled(windows.ten);
    const base = none.perSec;
    ctx.peaks.createsWithPush = one.perSec;
    const noStream = { name: 'same creates, no stream', perSec: base };
    ctx.rows.push({
      id: 'creates-no-stream',
      scenario: 'POST /Users, 64 clients, no stream (first and last of six windows)',
      unit: 'req/s',
      scimcast: none,
      ceiling: ctx.ceilings.http,
      note: `mean of ${fmt(before.perSec)}/s first and ${fmt(after.perSec)}/s last; p50 the mean, p99 the larger; last window's ${cpuPerCreate(after)}`,
    });
    ctx.rows.push({
      id: 'creates-with-push',
      scenario: 'POST /Users, 64 clients, one push stream attached (loopback receiver answering 202)',
      unit: 'req/s',
      scimcast: one,
      ceiling: noStream,
      note: `mean of windows 2 and 5: ${windows.one.map((w) => fmt(w.perSec)).join(' and ')}/s; window 5's ${cpuPerCreate(windows.one[1]!)}`,
      target: { text: '≥ 0.9× no stream', met: one.perSec >= 0.9 * base },
    });
    ctx.rows.push({
      id: 'creates-ten-streams',
      scenario: 'POST /Users, 64 clients, ten streams attached (5 push to the receiver, 5 poll not polled)',
      unit: 'req/s',
      scimcast: ten,
      ceiling: noStream,
      note: `mean of windows 3 and 4: ${windows.ten.map((w) => fmt(w.perSec)).join(' and ')}/s; window 4's ${cpuPerCreate(windows.ten[1]!)}`,
      target: { text: '≥ 0.8× no stream', met: ten.perSec >= 0.8 * base },
    });
    ctx.extra.streamCost = windows;
  } finally {
    await deleteStreams(ctx.scim.client, streams);
    await receiver.stop();
  }
}
