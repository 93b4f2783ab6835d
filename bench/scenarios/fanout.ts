import { es256PerSecond } from '../baselines/es256.js';
import { bulkBody } from '../lib/bulk-body.js';
import { storedSets, waitStored } from '../lib/receiver.js';
import { fmt, withRss, type Ctx } from './context.js';
import { timedBulk } from './bulk.js';
import { createStream, deleteStreams, POLL } from './streams.js';

/** Streams the changes fan out to: as many as the ten-stream row of stream-cost. */
const STREAMS = 10;

/**
 * Fan-out throughput, from the outside: ten poll streams (nobody polls them, so no delivery
 * competes), one synchronous POST /Bulk of N user creates, and the time from sending the bulk to
 * the moment `select count(*) from events` for those streams reaches N × 10 (lib/receiver.ts
 * waitStored). The figure is N × 10 SETs over that time: every change routed, signed and stored
 * once per stream, whether that happens inside the write transaction (as the bulk runs) or after
 * its commit in a fan-out loop. The window includes the bulk's own writes, so the figure is a
 * lower bound of the pipeline's rate; the note gives the bulk's time to show how much of the
 * window they took. Timestamps inside the `events` rows are not used: which moment `created_at`
 * records depends on where the pipeline signs.
 *
 * Compared with the jose ES256 signing ceiling (one thread, baselines/es256.ts), measured again
 * just before and just after the window and averaged, so the ratio holds when the machine's
 * speed moves during the run (the ceilings scenario's figure is from minutes earlier). Target
 * ≥ 0.8× that.
 */
export async function fanout(ctx: Ctx): Promise<void> {
  const c = ctx.scim.client;
  const changes = ctx.quick ? 2_000 : ctx.bulkOps;
  const tag = `fo${Date.now().toString(36)}`;
  const streams: string[] = [];
  try {
    for (let k = 0; k < STREAMS; k++) streams.push(await createStream(c, { delivery: { method: POLL } }));
    // Warm-up: JIT, the signing key's cache, the pipeline's first wake-up.
    const warm = 200;
    const w0 = await storedSets(ctx.db, streams);
    await timedBulk(c, bulkBody(`${tag}-w`, warm, { groups: false }));
    await waitStored(ctx.db, streams, w0 + warm * STREAMS);

    const signMs = ctx.quick ? 1_000 : 3_000;
    const es0 = await es256PerSecond(signMs);
    const before = await storedSets(ctx.db, streams);
    const sets = changes * STREAMS;
    const t0 = performance.now();
    const [r, rssMb] = await withRss(ctx.scim, async () => {
      const bulkMs = await timedBulk(c, bulkBody(tag, changes, { groups: false }));
      return { bulkMs, done: await waitStored(ctx.db, streams, before + sets) };
    });
    const secs = (r.done - t0) / 1000;
    const perSec = sets / secs;
    const es1 = await es256PerSecond(signMs);
    const ceiling = { name: 'jose ES256 signs, around the window', perSec: (es0.perSec + es1.perSec) / 2 };
    ctx.log(`fan-out: ${fmt(changes)} creates × ${STREAMS} poll streams = ${fmt(sets)} SETs stored in ${secs.toFixed(2)} s = ${fmt(perSec)} SETs/s (the bulk answered after ${(r.bulkMs / 1000).toFixed(2)} s)`);
    ctx.rows.push({
      id: 'fanout',
      scenario: `fan-out: ${fmt(changes)} creates in one bulk × ${STREAMS} poll streams, SETs signed and stored`,
      unit: 'SETs/s',
      scimcast: { perSec, ops: sets, rssMb },
      ceiling,
      target: { text: '≥ 0.8× ES256 ceiling', met: perSec >= 0.8 * ceiling.perSec },
      note: `from sending the bulk to the last SET stored: ${secs.toFixed(2)} s, of which the bulk's response took ${(r.bulkMs / 1000).toFixed(2)} s; ES256 ${fmt(es0.perSec)}/s before, ${fmt(es1.perSec)}/s after`,
    });
    ctx.extra.fanout = { changes, streams: STREAMS, seconds: secs, bulkMs: r.bulkMs, es256Before: es0.perSec, es256After: es1.perSec };
  } finally {
    await deleteStreams(c, streams);
  }
}
