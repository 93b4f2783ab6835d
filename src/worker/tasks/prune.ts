import type { Task } from 'graphile-worker';
import type { Deps } from '../../deps.js';

/**
 * prune (hourly cron): SETs pending for longer than the retention (since they were created, or
 * redriven / replayed) become dead with reason "expired" (POLL-13, spec-digest Q-21), counted in
 * scimcast_sets_dead_total{reason="expired"} by the process that ran the prune; async
 * transactions past their retention are removed, after which their Location answers 404 (issue 6 §5).
 */
export const makePrune =
  (d: Deps): Task =>
  async () => {
    const now = d.clock.now();
    const cutoff = new Date(now.getTime() - d.config.events.retentionDays * 86_400_000);
    for (const { feedId, count } of await d.storage.events.expire(cutoff, now)) d.metrics.expired(feedId, count);
    await d.storage.events.purgeFinished(cutoff);
    await d.storage.txns.purgeExpired(now);
    // A retired key signed only SETs created before it retired; once those are past every
    // retention, nothing stored needs its public key (issue 5 §5).
    const keep = Math.max(d.config.events.retentionDays, d.config.events.asyncRetentionDays) * 86_400_000;
    await d.storage.keys.removeRetiredBefore(new Date(now.getTime() - keep));
  };
