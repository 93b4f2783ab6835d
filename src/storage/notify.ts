import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { EVENTS_CHANNEL } from './events.js';

/**
 * One LISTEN connection per process fans NOTIFYs out to in-process waiters (long polls),
 * so a poll wakes within milliseconds of the commit instead of sleeping (issue 5 §7).
 * Reconnects after a database restart; waiters time out on their own meanwhile.
 */
export interface EventNotifier {
  /** Resolves true when `feedId` gets a new SET, false on timeout or abort. */
  wait(feedId: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  close(): Promise<void>;
}

/** `channel`: the SET channel by default; the fan-out listens on the changes channel (changes.ts). */
export function makeEventNotifier(pool: pg.Pool, channel: string = EVENTS_CHANNEL): EventNotifier {
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  let client: pg.PoolClient | undefined;
  let closed = false;
  let connecting: Promise<void> | undefined;

  const connect = async (): Promise<void> => {
    if (closed || client) return;
    try {
      const c = await pool.connect();
      c.on('notification', (n) => n.payload && bus.emit(n.payload));
      c.on('error', () => {
        client = undefined;
        c.release(true);
        if (!closed) setTimeout(() => void ensure(), 500).unref();
      });
      await c.query(`listen ${channel}`);
      client = c;
    } catch {
      if (!closed) setTimeout(() => void ensure(), 1000).unref();
    }
  };
  const ensure = () => (connecting ??= connect().finally(() => (connecting = undefined)));

  return {
    wait(feedId, timeoutMs, signal) {
      // Register before anything async, so a NOTIFY that lands while the caller queries is not lost.
      void ensure();
      return new Promise<boolean>((resolve) => {
        const done = (v: boolean) => {
          clearTimeout(timer);
          bus.off(feedId, onEvent);
          signal?.removeEventListener('abort', onAbort);
          resolve(v);
        };
        const onEvent = () => done(true);
        const onAbort = () => done(false);
        const timer = setTimeout(() => done(false), timeoutMs);
        bus.on(feedId, onEvent);
        signal?.addEventListener('abort', onAbort);
      });
    },
    async close() {
      closed = true;
      const c = client;
      client = undefined;
      if (c) {
        await c.query(`unlisten ${channel}`).catch(() => {});
        c.release();
      }
    },
  };
}
