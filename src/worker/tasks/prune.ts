import type { Task } from 'graphile-worker';
import { parseTaskPayload } from '../../async/tasks.js';
import type { Deps } from '../../deps.js';
import { settleCallback } from '../../feeds/callback.js';
import type { Storage } from '../../storage/index.js';

/**
 * prune (hourly cron): SETs pending for longer than the retention (since they were created, or
 * redriven / replayed) become dead with reason "expired" (RFC 8936 §2 leaves retention of
 * unacknowledged SETs to local policy), counted in
 * scimcast_sets_dead_total{reason="expired"} by the process that ran the prune; async
 * transactions past their retention are removed, after which their Location answers 404.
 */
export const makePrune =
  (d: Deps): Task =>
  async (raw) => {
    parseTaskPayload('prune', raw);
    const now = d.clock.now();
    const cutoff = new Date(now.getTime() - d.config.events.retentionDays * 86_400_000);
    // Each step in its own transaction without SCIMCAST_STATEMENT_TIMEOUT_MS: the amount to prune
    // grows with the backlog, not with any request, and a bound would cancel a large backlog at
    // every hourly run, so it would never shrink. One cron job at a time holds one connection.
    const unbounded = <T>(step: (s: Storage) => Promise<T>) => d.storage.withTx(step, { statementTimeoutMs: 0 });
    for (const { feedId, count } of await unbounded((s) => s.events.expire(cutoff, now))) d.metrics.expired(feedId, count);
    // Per-request callbacks whose last SET was settled (or just expired) without their end being
    // recorded, by a worker stopped in between: ended now, so their feeds do not wait for the
    // request's retention.
    for (const feed of await d.storage.feeds.idleCallbacks(1_000)) await settleCallback(d, feed);
    await unbounded((s) => s.events.purgeFinished(cutoff));
    await unbounded((s) => s.txns.purgeExpired(now));
    // A retired key signed only SETs created before it retired; once those are past every
    // retention, nothing stored needs its public key, and the JWKS stops publishing it.
    const keep = Math.max(d.config.events.retentionDays, d.config.events.asyncRetentionDays) * 86_400_000;
    await unbounded((s) => s.keys.removeRetiredBefore(new Date(now.getTime() - keep)));
  };
