import type pg from 'pg';
import { bulkBody } from '../lib/bulk-body.js';
import type { Client } from '../lib/client.js';
import { sleep, summarize } from '../lib/stats.js';
import { timedBulk } from './bulk.js';
import { fmt, withRss, type Ctx } from './context.js';
import { createStream, deleteStream, POLL } from './streams.js';

const PAGE = 1000;

/** Wait until the stream holds `n` pending SETs: fan-out may sign and store them after the writes return. */
export async function waitForPending(c: Client, stream: string, n: number, ms = 300_000): Promise<void> {
  const end = performance.now() + ms;
  for (;;) {
    const s = await c.json<{ counts: { pending: number } }>('GET', `/ssf/streams/${stream}/stats`);
    if (s.counts.pending >= n) return;
    if (performance.now() > end) throw new Error(`stream ${stream} has ${s.counts.pending} pending SETs after ${ms} ms, expected ${n}`);
    await sleep(100);
  }
}

/** Poll until empty, `maxEvents` 1,000, each request acknowledging the previous page (RFC 8936 §2.4). */
export async function drainPoll(c: Client, stream: string): Promise<{ sets: number; seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let sets = 0;
  let ack: string[] = [];
  const t0 = performance.now();
  for (;;) {
    const t = performance.now();
    const res = await c.json<{ sets: Record<string, string>; moreAvailable: boolean }>('POST', `/ssf/streams/${stream}/poll`, {
      body: { ack, maxEvents: PAGE, returnImmediately: true },
      headers: { 'content-type': 'application/json' },
      expect: 200,
    });
    latencies.push(performance.now() - t);
    ack = Object.keys(res.sets);
    sets += ack.length;
    if (ack.length === 0) break;
  }
  return { sets, seconds: (performance.now() - t0) / 1000, latencies };
}

/**
 * The database's share alone: the same drain as raw SQL on one connection from this process (read
 * a page of jti and jws in seq order, acknowledge it in one durable UPDATE), over the same rows put
 * back to pending. No HTTP, no JSON, no server: what a poll could reach if everything else were free.
 */
async function rawDrain(db: pg.Pool, stream: string): Promise<{ sets: number; seconds: number }> {
  await db.query(`update events set state = 'pending', done_at = null where feed_id = $1`, [stream]);
  const c = await db.connect();
  try {
    // The plan scimcast's page read uses (src/storage/events.ts): the index walk, not a bitmap scan and sort.
    await c.query('set enable_bitmapscan = off');
    let sets = 0;
    const t0 = performance.now();
    for (;;) {
      const r = await c.query<{ jti: string; jws: string }>(`select jti, jws from events where feed_id = $1 and state = 'pending' order by seq limit ${PAGE + 1}`, [stream]);
      const page = r.rows.slice(0, PAGE);
      if (page.length === 0) break;
      sets += page.length;
      await c.query(`update events set state = 'acked', done_at = now() where feed_id = $1 and state = 'pending' and jti = any($2::text[])`, [stream, page.map((x) => x.jti)]);
    }
    return { sets, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await c.query('reset enable_bitmapscan').catch(() => {});
    c.release();
  }
}

/**
 * RFC 8936 poll throughput: a 20,000-SET backlog fetched with `maxEvents` 1,000, each request
 * acknowledging the previous page, until the stream is empty. Target ≥ 20,000 SETs/s. The ceiling
 * is the same drain in raw SQL against the same database.
 */
export async function pollScenario(ctx: Ctx): Promise<void> {
  const c = ctx.scim.client;
  const total = 20_000;
  const stream = await createStream(c, { delivery: { method: POLL } });
  try {
    const tag = `q${Date.now().toString(36)}`;
    for (let made = 0, k = 0; made < total; k++) {
      const n = Math.min(ctx.bulkOps, total - made);
      await timedBulk(c, bulkBody(`${tag}-${k}`, n, { groups: false }));
      made += n;
    }
    await waitForPending(c, stream, total);
    const [r, rss] = await withRss(ctx.scim, () => drainPoll(c, stream));
    if (r.sets !== total) throw new Error(`poll returned ${r.sets} SETs, expected ${total}`);
    const s = summarize(r.latencies);
    const perSec = r.sets / r.seconds;
    ctx.log(`poll: ${fmt(r.sets)} SETs in ${r.seconds.toFixed(2)} s = ${fmt(perSec)} SETs/s; per request p50 ${s.p50.toFixed(1)} ms p99 ${s.p99.toFixed(1)} ms`);
    const raw = await rawDrain(ctx.db, stream);
    ctx.log(`poll ceiling: the same drain in raw SQL ${fmt(raw.sets / raw.seconds)} SETs/s`);
    ctx.rows.push({
      id: 'poll',
      scenario: `poll a ${fmt(total)}-SET backlog, maxEvents 1,000, acking each page`,
      unit: 'SETs/s',
      scimcast: { perSec, p50: s.p50, p99: s.p99, ops: r.sets, rssMb: rss },
      ceiling: { name: 'same drain, raw SQL', perSec: raw.sets / raw.seconds, ops: raw.sets },
      target: { text: '≥ 20,000 SETs/s', met: perSec >= 20_000 },
      note: 'p50/p99 columns: per poll request (1,000 SETs each); ceiling: the same pages read and acknowledged by raw SQL on one connection, no HTTP',
    });
  } finally {
    await deleteStream(c, stream).catch(() => {});
  }
}
