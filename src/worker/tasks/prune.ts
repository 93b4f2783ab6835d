import type { Task } from 'graphile-worker';
import type { Deps } from '../../deps.js';

/**
 * prune (hourly cron): unacknowledged SETs past the retention become dead with reason "expired"
 * (POLL-13, spec-digest Q-21); async transactions past their retention are removed, after which
 * their Location answers 404 (issue 6 §5).
 */
export const makePrune =
  (d: Deps): Task =>
  async () => {
    const now = d.clock.now();
    const cutoff = new Date(now.getTime() - d.config.events.retentionDays * 86_400_000);
    await d.storage.events.expire(cutoff, now);
    await d.storage.events.purgeFinished(cutoff);
    await d.storage.txns.purgeExpired(now);
    // A retired key signed only SETs created before it retired; once those are past every
    // retention, nothing stored needs its public key (issue 5 §5).
    const keep = Math.max(d.config.events.retentionDays, d.config.events.asyncRetentionDays) * 86_400_000;
    await d.storage.keys.removeRetiredBefore(new Date(now.getTime() - keep));
  };
