import { bulkBody } from '../lib/bulk-body.js';
import { summarize } from '../lib/stats.js';
import { timedBulk } from './bulk.js';
import { fmt, withRss, type Ctx } from './context.js';
import { createStream, deleteStream, POLL } from './streams.js';

/**
 * RFC 8936 poll throughput (issue 9 §2): a backlog of SETs fetched with `maxEvents` 1,000, each
 * request acknowledging the previous page, until the stream is empty. Target ≥ 20,000 SETs/s.
 */
export async function pollScenario(ctx: Ctx): Promise<void> {
  const c = ctx.scim.client;
  const total = ctx.quick ? 5_000 : 2 * ctx.bulkOps;
  const stream = await createStream(c, { delivery: { method: POLL } });
  try {
    const tag = `q${Date.now().toString(36)}`;
    for (let made = 0, k = 0; made < total; k++) {
      const n = Math.min(ctx.bulkOps, total - made);
      await timedBulk(c, bulkBody(`${tag}-${k}`, n, { groups: false }));
      made += n;
    }
    const lat: number[] = [];
    let got = 0;
    let ack: string[] = [];
    const t0 = performance.now();
    const [, rss] = await withRss(ctx.scim, async () => {
      for (;;) {
        const t = performance.now();
        const res = await c.json<{ sets: Record<string, string>; moreAvailable: boolean }>('POST', `/ssf/streams/${stream}/poll`, {
          body: { ack, maxEvents: 1000, returnImmediately: true },
          headers: { 'content-type': 'application/json' },
          expect: 200,
        });
        lat.push(performance.now() - t);
        ack = Object.keys(res.sets);
        got += ack.length;
        if (ack.length === 0) break;
      }
    });
    const secs = (performance.now() - t0) / 1000;
    if (got !== total) throw new Error(`poll returned ${got} SETs, expected ${total}`);
    const s = summarize(lat);
    ctx.log(`poll: ${fmt(got)} SETs in ${secs.toFixed(2)} s = ${fmt(got / secs)} SETs/s; per request p50 ${s.p50.toFixed(1)} ms p99 ${s.p99.toFixed(1)} ms`);
    ctx.rows.push({
      id: 'poll',
      scenario: `poll a ${fmt(total)}-SET backlog, maxEvents 1,000, acking each page`,
      unit: 'SETs/s',
      scimcast: { perSec: got / secs, p50: s.p50, p99: s.p99, ops: got, rssMb: rss },
      ceiling: ctx.ceilings.es256,
      target: { text: '≥ 20,000 SETs/s', met: got / secs >= 20_000 },
      note: 'p50/p99 columns: per poll request (1,000 SETs each)',
    });
  } finally {
    await deleteStream(c, stream).catch(() => {});
  }
}
