import type { Deps } from '../deps.js';
import { makeSecretBox } from '../core/secret-box.js';
import type { PushDeps } from '../delivery/deliver.js';
import { startPushService, type PushService } from '../delivery/push-service.js';
import { callbackHooks } from '../feeds/callback.js';
import { setStatus } from '../feeds/streams.js';
import { makeDb } from '../storage/db.js';
import { openFeedLeases } from '../storage/feed-leases.js';
import { makeStorage } from '../storage/index.js';

/**
 * The push pool's sessions walk the (feed_id, state, seq) index for their reads (see
 * pendingPage): with bitmap scans off for the session, a page read is one statement, with no
 * transaction around it to `set local`.
 */
const PUSH_SESSION = { enable_bitmapscan: 'off' } as const;

/**
 * RFC 8935 push in this worker process, on a pool of its own (SCIMCAST_PUSH_POOL_SIZE, plus the
 * lease connection): delivery never waits behind API requests or graphile-worker jobs for a
 * connection. Stream status changes it makes (pause on 401/403, disable after misbehaving
 * answers) go through the same pool.
 */
export function startPushDelivery(d: Deps, databaseUrl: string): PushService & { close(): Promise<void> } {
  const db = makeDb(databaseUrl, {
    max: d.config.events.pushPoolSize + 1,
    applicationName: `scimcast-push ${process.pid}`,
    statementTimeoutMs: d.config.limits.statementTimeoutMs,
    settings: PUSH_SESSION,
  });
  const storage = makeStorage(db.db, makeSecretBox(d.config.keyEncryption));
  const streams = { ...d.streams, storage };
  const push: PushDeps = {
    ...d.push,
    storage,
    setStreamStatus: async (feedId, status, reason) => void (await setStatus(streams, undefined, { stream_id: feedId, status, reason })),
    callbacks: callbackHooks({ storage, clock: d.clock }, d.config.events.callbackMaxAttempts),
  };
  const service = startPushService({
    push,
    openLeases: (on) => openFeedLeases(db.pool, on),
    sweepMs: d.config.events.pushSweepMs,
    onError: (stream, e) => warn(stream, e),
  });
  return {
    serving: () => service.serving(),
    stop: () => service.stop(),
    async close() {
      await service.stop();
      await db.close();
    },
  };
}

/** Like the worker's own warnings: a JSON line on stderr, with the error's code only (no values). */
function warn(stream: string | undefined, e: unknown): void {
  const err = e as { code?: unknown; name?: unknown };
  const code = typeof err?.code === 'string' ? err.code : typeof err?.name === 'string' ? err.name : 'unknown';
  process.stderr.write(`${JSON.stringify({ level: 'warning', source: 'push', msg: stream ? 'push round failed' : 'push sweep failed', ...(stream ? { stream } : {}), code })}\n`);
}
