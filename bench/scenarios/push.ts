import { bulkBody } from '../lib/bulk-body.js';
import { makeClient, type Client } from '../lib/client.js';
import { runLoad } from '../lib/load.js';
import { startHelper } from '../lib/processes.js';
import type { Figure } from '../lib/report.js';
import { createBody } from '../lib/seed-doc.js';
import { summarize, waitFor } from '../lib/stats.js';
import { timedBulk } from './bulk.js';
import { fmt, SCIM, withRss, type Ctx } from './context.js';
import { createStream, deleteStream, PUSH, setStreamStatus } from './streams.js';

interface ReceiverStats {
  count: number;
  firstAt: number;
  lastAt: number;
  maxOpen: number;
  duplicates: number;
  latencies: number[];
}

const stats = (r: Client) => r.json<ReceiverStats>('GET', '/stats');

/** Wait for `n` SETs at the receiver; returns its stats. */
async function received(r: Client, n: number, ms = 300_000): Promise<ReceiverStats> {
  let last: ReceiverStats | undefined;
  const ok = await waitFor(async () => (last = await stats(r)).count >= n, ms, 50);
  if (!ok) throw new Error(`receiver got ${last?.count} of ${n} SETs within ${ms / 1000} s`);
  return last!;
}

/**
 * RFC 8935 push to a local receiver in its own process (issue 9 §2): commit-to-202 latency and SETs
 * per second. Targets: p50 < 25 ms and p99 < 100 ms while ≥ 5,000 SETs/s flow, measured while a
 * 10,000-operation bulk produces SETs as fast as scimcast can. Also: latency under 64 creating
 * clients, and the drain rate of a backlog, in order (default) and with max_in_flight 64.
 */
export async function push(ctx: Ctx): Promise<void> {
  const receiver = await startHelper('bench/baselines/receiver-server.ts');
  const origin = new URL(receiver.url).origin;
  const rc = makeClient(origin, { connections: 2 });
  const n = ctx.quick ? 2_000 : ctx.bulkOps;
  const tag = `p${Date.now().toString(36)}`;
  const c = ctx.scim.client;
  let stream = await createStream(c, { delivery: { method: PUSH, endpoint_url: receiver.url } });
  try {
    // (a) Steady creates from 64 clients, each create's SET pushed.
    const warm = await runLoad({ concurrency: 64, durationMs: ctx.timed.warmupMs }, async (i) => void (await c.call('POST', `${SCIM}/Users`, { body: createBody(`${tag}-w`, i), expect: 201 })));
    await received(rc, warm.ops); // the warm-up's SETs are out before the window opens
    await rc.call('POST', '/reset');
    const [load, rssA] = await withRss(ctx.scim, () =>
      runLoad({ concurrency: 64, durationMs: ctx.timed.durationMs }, async (i) => void (await c.call('POST', `${SCIM}/Users`, { body: createBody(tag, i), expect: 201 }))),
    );
    const a = await received(rc, load.ops);
    const la = summarize(a.latencies);
    const aRate = a.count / ((a.lastAt - a.firstAt) / 1000);
    ctx.log(`push during creates: ${fmt(load.perSec)} creates/s; ${fmt(a.count)} SETs, stored→202 p50 ${la.p50} ms p99 ${la.p99} ms`);
    ctx.rows.push({
      id: 'creates-with-push',
      scenario: 'POST /Users, 64 clients, one push stream attached (SET signed in the create)',
      unit: 'req/s',
      scimcast: { ...load, rssMb: rssA },
      ceiling: ctx.ceilings.http,
      note: 'compare with the creates row: the cost of signing and storing one SET per create',
    });
    ctx.rows.push({
      id: 'push-steady',
      scenario: 'push during those creates: SETs/s, stored → receiver 202 latency',
      unit: 'SETs/s',
      scimcast: { perSec: aRate, p50: la.p50, p99: la.p99, ops: a.count, rssMb: rssA },
      ceiling: ctx.ceilings.es256,
      target: { text: 'p50 < 25 ms, p99 < 100 ms', met: la.p50 < 25 && la.p99 < 100 },
    });

    // (b) A bulk burst: SETs produced as fast as scimcast can, pushed while they are made.
    await rc.call('POST', '/reset');
    const [burst, rssB] = await withRss(ctx.scim, async () => {
      const ms = await timedBulk(c, bulkBody(`${tag}-b`, n, { groups: false }));
      return { ms, st: await received(rc, n) };
    });
    const lb = summarize(burst.st.latencies);
    const bRate = burst.st.count / ((burst.st.lastAt - burst.st.firstAt) / 1000);
    ctx.log(`push during a ${fmt(n)}-create bulk (${fmt(n / (burst.ms / 1000))} creates/s): ${fmt(bRate)} SETs/s, stored→202 p50 ${lb.p50} ms p99 ${lb.p99} ms`);
    ctx.rows.push({
      id: 'push-burst',
      scenario: `push during a ${fmt(n)}-user bulk: SETs/s, stored → receiver 202 latency`,
      unit: 'SETs/s',
      scimcast: { perSec: bRate, p50: lb.p50, p99: lb.p99, ops: burst.st.count, rssMb: rssB },
      ceiling: ctx.ceilings.es256,
      target: { text: 'p50 < 25 ms, p99 < 100 ms, ≥ 5,000 SETs/s', met: lb.p50 < 25 && lb.p99 < 100 && bRate >= 5_000 },
      note: `the bulk made ${fmt(n / (burst.ms / 1000))} users (and SETs) per second; the push can go no faster than that`,
    });

    // (c) Backlog drain: SETs stored while the stream is paused, then pushed as fast as possible.
    for (const window of [1, 64]) {
      if (window > 1) {
        await deleteStream(c, stream);
        stream = await createStream(c, { delivery: { method: PUSH, endpoint_url: receiver.url }, max_in_flight: window });
      }
      await setStreamStatus(c, stream, 'paused');
      const made = await timedBulk(c, bulkBody(`${tag}-d${window}`, n, { groups: false }));
      if (window === 1) {
        const perSec = n / (made / 1000);
        ctx.log(`SET production: a ${fmt(n)}-user bulk with one stream, ${fmt(perSec)} users+SETs/s`);
        ctx.rows.push({
          id: 'set-production',
          scenario: `POST /Bulk, ${fmt(n)} users, one stream attached: users created and SETs signed+stored`,
          unit: 'SETs/s',
          scimcast: { perSec, p50: made, ops: n },
          ceiling: ctx.ceilings.es256,
          note: 'p50 column: whole bulk in ms',
        });
      }
      await rc.call('POST', '/reset');
      const t0 = Date.now();
      const [st, rss] = await withRss(ctx.scim, async () => {
        await setStreamStatus(c, stream, 'enabled');
        return received(rc, n);
      });
      const perSec = st.count / ((st.lastAt - t0) / 1000);
      ctx.log(`push backlog drain, max_in_flight ${window}: ${fmt(perSec)} SETs/s (${st.maxOpen} open at most${st.duplicates ? `, ${st.duplicates} duplicates` : ''})`);
      const fig: Figure = { perSec, ops: st.count, rssMb: rss };
      ctx.rows.push({
        id: `push-drain-${window}`,
        scenario: `push a ${fmt(n)}-SET backlog, ${window === 1 ? 'in order (one in flight, the default)' : `max_in_flight ${window}`}`,
        unit: 'SETs/s',
        scimcast: fig,
        ceiling: ctx.ceilings.es256,
        target: { text: '≥ 5,000 SETs/s', met: perSec >= 5_000 },
      });
    }
  } finally {
    await deleteStream(c, stream).catch(() => {});
    await rc.close();
    await receiver.stop();
  }
}
