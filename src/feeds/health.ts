import type { Clock } from '../core/clock.js';
import type { Storage } from '../storage/index.js';

/** What the health view asks of the process: the same probes /readyz uses. */
export interface HealthProbes {
  ping(): Promise<void>;
  workerAlive(): Promise<boolean>;
  /** A worker silent for this long counts as dead (SCIMCAST_WORKER_DEAD_AFTER_MS). */
  readonly deadAfterMs: number;
}

const ageSeconds = (now: number, at: Date) => Math.max(0, Math.round((now - at.getTime()) / 1000));

/**
 * The operator's health view in one answer: readiness as /readyz decides it, database reachability,
 * each worker's last heartbeat, and backlog totals over every stream (per-request callback feeds
 * left out, as in /metrics). With the database away, the parts that need it are null rather than
 * an error: "unreachable" is the answer the operator needs then.
 */
export async function operatorHealth(d: { storage: Storage; clock: Clock }, probes: HealthProbes) {
  let database: 'ok' | 'unreachable' = 'ok';
  try {
    await probes.ping();
  } catch {
    database = 'unreachable';
  }
  const worker = database === 'ok' && (await probes.workerAlive().catch(() => false)) ? 'ok' : 'unreachable';
  const now = d.clock.now().getTime();
  const read = async <T>(f: () => Promise<T>): Promise<T | null> => (database === 'ok' ? f().catch(() => null) : null);
  const [beats, feeds] = await Promise.all([read(() => d.storage.heartbeats.all()), read(() => d.storage.events.statsByFeed())]);
  return {
    status: database === 'ok' && worker === 'ok' ? 'ready' : 'not ready',
    database,
    worker,
    workers:
      beats?.map((b) => ({ id: b.workerId, last_heartbeat: b.seenAt.toISOString(), age_seconds: ageSeconds(now, b.seenAt), alive: now - b.seenAt.getTime() < probes.deadAfterMs })) ??
      null,
    backlog: feeds && backlogTotals(feeds, now),
  };
}

type FeedStats = Awaited<ReturnType<Storage['events']['statsByFeed']>>[number];

/** Sums over the streams, and the age of the longest-waiting pending SET among them. */
function backlogTotals(feeds: FeedStats[], now: number) {
  const oldest = feeds.reduce<Date | undefined>((o, f) => (f.oldestPendingAt && (!o || f.oldestPendingAt < o) ? f.oldestPendingAt : o), undefined);
  return {
    streams: feeds.length,
    streams_behind: feeds.filter((f) => f.counts.pending > 0).length,
    pending: feeds.reduce((n, f) => n + f.counts.pending, 0),
    dead: feeds.reduce((n, f) => n + f.counts.dead, 0),
    oldest_pending_age_seconds: oldest ? ageSeconds(now, oldest) : null,
  };
}
