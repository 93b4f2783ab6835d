import type pg from 'pg';
import { EVENTS_CHANNEL } from './events.js';

/**
 * Which worker process serves a push stream, and how it hears of new SETs: one connection per
 * process, held for the process's life, that LISTENs on EVENTS_CHANNEL and holds a session-level
 * advisory lock per stream it serves. PostgreSQL releases a session's locks when the session ends,
 * so a process that dies (SIGKILL, OOM, lost host) gives its streams up without anyone having to
 * notice, and a lease can never outlive its holder: two processes never serve one stream at once.
 *
 * When the connection is lost, every lease goes with it; `lost` is called at once so the caller
 * stops sending, and the connection is opened again (`connected`, then leases may be taken anew).
 */
export interface FeedLeases {
  /** True when this process holds the stream's lease (it already did, or took it now). */
  tryAcquire(feedId: string): Promise<boolean>;
  release(feedId: string): Promise<void>;
  /**
   * Ask the connection to answer within `timeoutMs`; if it does not, drop it (and every lease with
   * it). A connection that went silent (a network partition) would otherwise keep this process
   * sending while the database, once it drops the session, lets another process take the streams.
   */
  check(timeoutMs: number): Promise<void>;
  /** Counts connections lost; a lease taken under an earlier value is gone. */
  readonly epoch: number;
  close(): Promise<void>;
}

export interface LeaseEvents {
  /** A NOTIFY on EVENTS_CHANNEL: new SETs for this feed have committed, or it was requeued or resumed. */
  notify(feedId: string): void;
  /** The connection and all leases are gone. */
  lost(): void;
  /** (Re)connected and listening: NOTIFYs may have been missed meanwhile. */
  connected(): void;
}

/**
 * The lock key is two int4s: a constant for "push lease" and the stream id's hash, so it shares no
 * key space with single-bigint advisory locks (the migration lock, graphile-worker's). Two
 * streams whose ids hash alike share a key: the process that holds one may take the other too
 * (session locks are re-entrant, and each take is released once), and another process then waits
 * for both. That costs spread, never order.
 */
const LOCK = `hashtext('scimcast:push-lease'), hashtext($1)`;

export function openFeedLeases(pool: pg.Pool, on: LeaseEvents, opts: { reconnectMs?: number } = {}): FeedLeases {
  const reconnectMs = opts.reconnectMs ?? 500;
  let client: pg.PoolClient | undefined;
  let epoch = 0;
  let closed = false;
  let connecting: Promise<void> | undefined;
  const held = new Set<string>();
  // One statement at a time on the connection (node-postgres no longer queues them for us).
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = tail.then(fn, fn);
    tail = p.catch(() => {});
    return p;
  };

  const drop = (c: pg.PoolClient) => {
    if (client !== c) return;
    client = undefined;
    held.clear();
    epoch++;
    c.release(true);
    on.lost();
    if (!closed) setTimeout(() => void ensure(), reconnectMs).unref();
  };
  const connect = async (): Promise<void> => {
    if (closed || client) return;
    let c: pg.PoolClient | undefined;
    try {
      c = await pool.connect();
      const self = c;
      c.on('notification', (n) => n.channel === EVENTS_CHANNEL && n.payload && on.notify(n.payload));
      c.on('error', () => drop(self));
      c.on('end', () => drop(self));
      await c.query(`listen ${EVENTS_CHANNEL}`);
      if (closed) {
        c.release(true);
        return;
      }
      client = c;
      on.connected();
    } catch {
      c?.release(true);
      if (!closed) setTimeout(() => void ensure(), reconnectMs * 2).unref();
    }
  };
  const ensure = () => (connecting ??= connect().finally(() => (connecting = undefined)));
  void ensure();

  return {
    get epoch() {
      return epoch;
    },
    async tryAcquire(feedId) {
      if (held.has(feedId)) return true;
      const c = client;
      if (!c) return false;
      const at = epoch;
      try {
        const r = await serial(() => c.query<{ ok: boolean }>(`select pg_try_advisory_lock(${LOCK}) as ok`, [feedId]));
        // Lost while asking: whatever was granted went with the session.
        if (!r.rows[0]?.ok || epoch !== at) return false;
        held.add(feedId);
        return true;
      } catch {
        return false;
      }
    },
    async release(feedId) {
      if (!held.delete(feedId)) return;
      const c = client;
      if (!c) return;
      await serial(() => c.query(`select pg_advisory_unlock(${LOCK})`, [feedId])).catch(() => {});
    },
    async check(timeoutMs) {
      const c = client;
      if (!c) return;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
      const answered = serial(() => c.query('select 1')).then(
        () => true,
        () => false,
      );
      const ok = await Promise.race([answered, timedOut]);
      clearTimeout(timer);
      if (!ok) drop(c);
    },
    async close() {
      closed = true;
      await connecting;
      const c = client;
      client = undefined;
      held.clear();
      // Ending the session releases every lease at once.
      c?.release(true);
    },
  };
}
