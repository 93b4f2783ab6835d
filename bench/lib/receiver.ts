import type pg from 'pg';
import { makeClient, type Client } from './client.js';
import { startHelper, type Child } from './processes.js';
import { sleep, waitFor } from './stats.js';

/** What bench/baselines/receiver-server.ts reports (GET /stats). */
export interface ReceiverStats {
  /** Distinct SETs answered since the last reset. */
  count: number;
  /** Of those, SETs about a SCIM resource (the changes a scenario made, not stream-updated SETs). */
  resourceSets: number;
  firstAt: number;
  lastAt: number;
  lastResourceAt: number;
  /** Requests whose body was still arriving at once, at most (small SETs on loopback rarely overlap). */
  maxOpen: number;
  /** Distinct connections that carried SETs. */
  sockets: number;
  duplicates: number;
  /** With `times`: resource id → Date.now() when the receiver answered the first SET about it. */
  times?: Record<string, number>;
  /** With `order`: every distinct `jti`, in the order answered. */
  order?: string[];
}

export interface Receiver extends Child {
  /** The push endpoint; append a path to give each stream its own. */
  readonly url: string;
  stats(opts?: { times?: boolean; order?: boolean }): Promise<ReceiverStats>;
  reset(): Promise<void>;
  /** Wait for `n` resource SETs since the last reset; returns the stats (with `times` if asked). */
  resourceSets(n: number, opts?: { ms?: number; times?: boolean; order?: boolean }): Promise<ReceiverStats>;
  /** Wait until no SET has arrived for `quietMs` (a deleted stream's last batch has landed). */
  quiet(quietMs?: number, ms?: number): Promise<void>;
}

/** The loopback RFC 8935 receiver, in its own process (bench/baselines/receiver-server.ts). */
export async function startReceiver(): Promise<Receiver> {
  const child = await startHelper('bench/baselines/receiver-server.ts');
  const rc: Client = makeClient(new URL(child.url).origin, { connections: 2 });
  const stats: Receiver['stats'] = (o = {}) => {
    const q = [o.times ? 'times=1' : '', o.order ? 'order=1' : ''].filter(Boolean).join('&');
    return rc.json<ReceiverStats>('GET', `/stats${q ? `?${q}` : ''}`);
  };
  return {
    ...child,
    stats,
    reset: async () => void (await rc.call('POST', '/reset')),
    async resourceSets(n, o = {}) {
      const ms = o.ms ?? 300_000;
      let last: ReceiverStats | undefined;
      const ok = await waitFor(async () => (last = await stats()).resourceSets >= n, ms, 50);
      if (!ok) throw new Error(`the receiver got ${last?.resourceSets} of ${n} SETs within ${ms / 1000} s`);
      return o.times || o.order ? stats(o) : last!;
    },
    async quiet(quietMs = 500, ms = 30_000) {
      const end = performance.now() + ms;
      let last = -1;
      while (performance.now() < end) {
        const { count } = await stats();
        if (count === last) return;
        last = count;
        await sleep(quietMs);
      }
    },
    async stop() {
      await rc.close();
      await child.stop();
    },
  };
}

/**
 * SETs stored for these streams: the outside view of the pipeline's output. Only the `events`
 * table's `feed_id` is read, which every version of the pipeline fills the same way.
 */
export async function storedSets(db: pg.Pool, streams: readonly string[]): Promise<number> {
  const r = await db.query<{ n: number }>('select count(*)::int as n from events where feed_id = any($1::text[])', [streams]);
  return r.rows[0]!.n;
}

/**
 * Wait until `target` SETs are stored for these streams; returns when (performance.now()) the
 * count was first seen at the target. Counting 100,000 rows costs the database a few
 * milliseconds, so the count is read every 200 ms while far from the target and every 20 ms near
 * it, to keep both the load and the timing error small.
 */
export async function waitStored(db: pg.Pool, streams: readonly string[], target: number, ms = 600_000): Promise<number> {
  const end = performance.now() + ms;
  // The count is a snapshot taken when the statement starts, so that is the time it belongs to.
  const read = async () => {
    const t = performance.now();
    return { n: await storedSets(db, streams), t };
  };
  let prev = await read();
  for (;;) {
    if (prev.n >= target) return prev.t;
    if (prev.t > end) throw new Error(`${prev.n} of ${target} SETs stored within ${ms / 1000} s`);
    await sleep(20);
    const now = await read();
    if (now.n < target) {
      const perMs = (now.n - prev.n) / Math.max(1, now.t - prev.t);
      const eta = perMs > 0 ? (target - now.n) / perMs : Infinity;
      await sleep(Math.min(180, Math.max(0, eta / 2 - 20)));
    }
    prev = now;
  }
}
