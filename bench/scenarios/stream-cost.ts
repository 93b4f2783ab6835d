import { runLoad, type LoadResult } from '../lib/load.js';
import { startReceiver, type Receiver } from '../lib/receiver.js';
import { createBody } from '../lib/seed-doc.js';
import { fmt, SCIM, withRss, type Ctx } from './context.js';
import { createStream, deleteStreams, POLL, PUSH } from './streams.js';

const larger = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.max(a, b));

/** Single creates from 64 clients, as in the creates scenario; returns the figure and peak RSS. */
async function createWindow(ctx: Ctx, tag: string): Promise<LoadResult & { rssMb: number | undefined }> {
  const [r, rssMb] = await withRss(ctx.scim, () =>
    runLoad({ concurrency: 64, ...ctx.timed }, async (i) => void (await ctx.scim.client.call('POST', `${SCIM}/Users`, { body: createBody(tag, i), expect: 201 }))),
  );
  return { ...r, rssMb };
}

/** Push streams to the receiver (each on its own path) and poll streams, all for user creates. */
export async function attachStreams(ctx: Ctx, receiver: Receiver, push: number, poll: number): Promise<string[]> {
  const ids: string[] = [];
  for (let k = 0; k < push; k++) ids.push(await createStream(ctx.scim.client, { delivery: { method: PUSH, endpoint_url: `${receiver.url}/${k}` } }));
  for (let k = 0; k < poll; k++) ids.push(await createStream(ctx.scim.client, { delivery: { method: POLL } }));
  return ids;
}

/**
 * What streams cost the writer: creates from 64 clients with no stream, with one push stream to a
 * loopback receiver answering 202 (in its own process), with ten streams, and with no stream
 * again. The ten are 5 push streams to that receiver and 5 poll streams nobody polls during the
 * window, so the figure holds both the fan-out and signing every stream costs and the delivery
 * that push adds; poll's reads are the receiver's own cost and belong to the poll scenario.
 *
 * The no-stream figure is the mean of the windows before and after, so drift of the machine and
 * the growing users table fall on both sides of the ratio. Between windows the streams are
 * deleted (their pending SETs with them) and the receiver is let go quiet, so no window pays
 * for the one before it.
 *
 * Targets: one push stream ≥ 0.9× no stream; ten streams ≥ 0.8× no stream.
 */
export async function streamCost(ctx: Ctx): Promise<void> {
  const receiver = await startReceiver();
  const tag = `sc${Date.now().toString(36)}`;
  let streams: string[] = [];
  try {
    const before = await createWindow(ctx, `${tag}-n1`);
    ctx.log(`creates, no stream: ${fmt(before.perSec)}/s p50 ${before.p50.toFixed(1)} ms p99 ${before.p99.toFixed(1)} ms`);

    streams = await attachStreams(ctx, receiver, 1, 0);
    const one = await createWindow(ctx, `${tag}-p1`);
    ctx.log(`creates, one push stream: ${fmt(one.perSec)}/s p50 ${one.p50.toFixed(1)} ms p99 ${one.p99.toFixed(1)} ms`);
    await deleteStreams(ctx.scim.client, streams);
    await receiver.quiet();

    streams = await attachStreams(ctx, receiver, 5, 5);
    const ten = await createWindow(ctx, `${tag}-t10`);
    ctx.log(`creates, ten streams (5 push, 5 poll): ${fmt(ten.perSec)}/s p50 ${ten.p50.toFixed(1)} ms p99 ${ten.p99.toFixed(1)} ms`);
    await deleteStreams(ctx.scim.client, streams);
    streams = [];
    await receiver.quiet();

    const after = await createWindow(ctx, `${tag}-n2`);
    ctx.log(`creates, no stream again: ${fmt(after.perSec)}/s p50 ${after.p50.toFixed(1)} ms p99 ${after.p99.toFixed(1)} ms`);

    const base = (before.perSec + after.perSec) / 2;
    ctx.peaks.createsWithPush = one.perSec;
    const noStream = { name: 'same creates, no stream', perSec: base };
    ctx.rows.push({
      id: 'creates-no-stream',
      scenario: 'POST /Users, 64 clients, no stream (windows before and after the rows below)',
      unit: 'req/s',
      scimcast: { perSec: base, p50: (before.p50 + after.p50) / 2, p99: Math.max(before.p99, after.p99), ops: before.ops + after.ops, errors: before.errors + after.errors, rssMb: larger(before.rssMb, after.rssMb) },
      ceiling: ctx.ceilings.http,
      note: `mean of ${fmt(before.perSec)}/s before and ${fmt(after.perSec)}/s after; p50 the mean, p99 the larger`,
    });
    ctx.rows.push({
      id: 'creates-with-push',
      scenario: 'POST /Users, 64 clients, one push stream attached (loopback receiver answering 202)',
      unit: 'req/s',
      scimcast: one,
      ceiling: noStream,
      target: { text: '≥ 0.9× no stream', met: one.perSec >= 0.9 * base },
    });
    ctx.rows.push({
      id: 'creates-ten-streams',
      scenario: 'POST /Users, 64 clients, ten streams attached (5 push to the receiver, 5 poll not polled)',
      unit: 'req/s',
      scimcast: ten,
      ceiling: noStream,
      target: { text: '≥ 0.8× no stream', met: ten.perSec >= 0.8 * base },
    });
    ctx.extra.streamCost = { noStreamBefore: before, onePush: one, tenStreams: ten, noStreamAfter: after };
  } finally {
    await deleteStreams(ctx.scim.client, streams);
    await receiver.stop();
  }
}
