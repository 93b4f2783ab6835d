import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { EVENTS_CHANNEL } from './events.js';

/**
 * One LISTEN connection per process fans NOTIFYs out to in-process waiters (long polls),
 * so a poll wakes within milliseconds of the commit instead of sleeping (RFC 8936 §2.5 long polling).
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
      // Closed while connecting (a worker stopped right after it started): the connection goes
      // back now, or the pool's end would wait for it.
      if (closed) return c.release(true);
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
      await connecting;
      const c = client;
      client = undefined;
      if (c) {
        await c.query(`unlisten ${channel}`).catch(() => {});
        c.release();
      }
    },
  };
}

/** A LISTEN connection of its own on one channel; see listenChannel. */
export interface ChannelListener {
  /** Connects (in the background) on the first call; true while the LISTEN is in place. */
  live(): boolean;
  close(): Promise<void>;
}

/**
 * LISTEN on `channel` and hand each payload to `notify`. `up` runs once the LISTEN is in place
 * (first connect and every reconnect), `down` when the connection is lost: between the two,
 * notifications are lost, and the caller decides what that means for it. Reconnects after half a
 * second, or a second when connecting failed.
 */
export function listenChannel(
  pool: pg.Pool,
  channel: string,
  on: { notify(payload: string): void; up?(): void; down?(): void },
): ChannelListener {
  let client: pg.PoolClient | undefined;
  let releaseClient: (destroy: boolean) => void = () => {};
  let closed = false;
  let connecting: Promise<void> | undefined;

  const connect = async (): Promise<void> => {
    if (closed || client) return;
    try {
      const c = await pool.connect();
      let released = false;
      const release = (destroy: boolean) => {
        if (released) return;
        released = true;
        c.release(destroy);
      };
      // After release the connection is the pool's: its later errors are none of ours.
      const onLost = () => {
        if (released) return;
        const wasLive = client === c;
        if (wasLive) client = undefined;
        release(true);
        if (wasLive) on.down?.();
        if (!closed) setTimeout(() => void ensure(), 500).unref();
      };
      c.on('notification', (n) => n.channel === channel && n.payload !== undefined && on.notify(n.payload));
      c.on('error', onLost);
      c.on('end', onLost);
      try {
        await c.query(`listen ${channel}`);
      } catch (e) {
        release(true);
        throw e;
      }
      if (released) return;
      if (closed) return release(true);
      client = c;
      releaseClient = release;
      on.up?.();
    } catch {
      if (!closed) setTimeout(() => void ensure(), 1000).unref();
    }
  };
  const ensure = () => (connecting ??= connect().finally(() => (connecting = undefined)));

  return {
    live() {
      if (!client && !closed) void ensure();
      return client !== undefined;
    },
    async close() {
      closed = true;
      await connecting;
      const c = client;
      client = undefined;
      if (c) {
        await c.query(`unlisten ${channel}`).catch(() => {});
        releaseClient(false);
      }
    },
  };
}
