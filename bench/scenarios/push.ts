import { bulkBody } from '../lib/bulk-body.js';
import { startReceiver, storedSets, waitStored } from '../lib/receiver.js';
import { fmt, withRss, type Ctx } from './context.js';
import { timedBulk } from './bulk.js';
import { createStream, deleteStreams, PUSH, setStreamStatus } from './streams.js';

/** The size of the backlog: the target names 10,000, and a smaller one would measure start-up. */
const BACKLOG = 10_000;

/**
 * RFC 8935 push of a backlog to a loopback receiver answering 202 (in its own process): a stream
 * is paused (SSF: a paused stream keeps its SETs), a 10,000-user bulk is made, and the run waits
 * until the `events` table holds the stream's 10,000 SETs, so however the pipeline signs and
 * stores them, all are pending before the clock starts. Then the stream is resumed through
 * /ssf/status. The figure is 10,000 over the time from the resume request to the receiver's 202
 * for the 10,000th SET about a user (the stream-updated SETs that the pause and resume announce
 * travel too, but are not counted).
 *
 * Twice: with max_in_flight 64 (target ≥ 5,000 SETs/s) and with one in flight, the default
 * (target ≥ 3,000 SETs/s, in order). Order is checked from the outside: the `jti`s in the order
 * the receiver answered them must be the stream's `jti`s in `events.seq` order.
 */
export async function pushDrain(ctx: Ctx): Promise<void> {
  const c = ctx.scim.client;
  const receiver = await startReceiver();
  const tag = `pd${Date.now().toString(36)}`;
  let stream: string | undefined;
  try {
    for (const window of [64, 1]) {
      stream = await createStream(c, { delivery: { method: PUSH, endpoint_url: receiver.url }, max_in_flight: window });
      await setStreamStatus(c, stream, 'paused');
      const before = await storedSets(ctx.db, [stream]);
      await timedBulk(c, bulkBody(`${tag}-${window}`, BACKLOG, { groups: false }));
      await waitStored(ctx.db, [stream], before + BACKLOG);
      await receiver.reset();
      const t0 = Date.now();
      const [st, rssMb] = await withRss(ctx.scim, async () => {
        await setStreamStatus(c, stream!, 'enabled');
        return receiver.resourceSets(BACKLOG, { order: window === 1 });
      });
      const perSec = BACKLOG / ((st.lastResourceAt - t0) / 1000);
      let inOrder: boolean | undefined;
      if (window === 1) {
        const stored = (await ctx.db.query<{ jti: string }>('select jti from events where feed_id = $1 order by seq', [stream])).rows.map((r) => r.jti);
        const got = new Set(st.order);
        const expected = stored.filter((j) => got.has(j));
        inOrder = expected.length === st.order!.length && expected.every((j, k) => j === st.order![k]);
      }
      ctx.log(
        `push backlog drain, max_in_flight ${window}: ${fmt(perSec)} SETs/s (over ${st.sockets} connections${st.duplicates ? `, ${st.duplicates} duplicates` : ''}${inOrder === undefined ? '' : inOrder ? ', in order' : ', OUT OF ORDER'})`,
      );
      const target = window === 1 ? 3_000 : 5_000;
      ctx.rows.push({
        id: `push-drain-${window}`,
        scenario: `push a ${fmt(BACKLOG)}-SET backlog, ${window === 1 ? 'in order (one in flight, the default)' : `max_in_flight ${window}`}`,
        unit: 'SETs/s',
        scimcast: { perSec, ops: BACKLOG, rssMb },
        ceiling: ctx.ceilings.es256,
        target: { text: `≥ ${fmt(target)} SETs/s${window === 1 ? ', in order' : ''}`, met: perSec >= target && inOrder !== false },
        note: `SETs came over ${st.sockets} connections${st.duplicates ? `; ${st.duplicates} SETs sent twice` : ''}${inOrder === false ? '; NOT in events.seq order' : ''}`,
      });
      await deleteStreams(c, [stream]);
      stream = undefined;
    }
  } finally {
    if (stream) await deleteStreams(c, [stream]);
    await receiver.stop();
  }
}
