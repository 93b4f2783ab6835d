import { isCallbackFeed } from './ids.js';
import { makeRegistry, type Registry } from './metrics.js';

/** Commit (SET createdAt) to the receiver's 202: from a few ms on loopback to minutes of backoff. */
export const PUSH_DELIVERY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const;

export type PushOutcomeKind = 'delivered' | 'rejected' | 'pause' | 'misbehaving' | 'retry';

/**
 * The SET error codes of the IANA registry (RFC 8935 §2.3/§7.1); receivers may send any string,
 * so anything else is counted as "other" to keep the label's cardinality bounded.
 */
const SET_ERRS = new Set(['invalid_request', 'invalid_key', 'invalid_issuer', 'invalid_audience', 'authentication_failed', 'access_denied']);
export const deadReason = (err: string): string => (SET_ERRS.has(err) ? err : 'other');
/** The dead-letter reason of SETs expired by retention (never a receiver's code, see deadReason). */
export const EXPIRED_REASON = 'expired';

/**
 * The `stream` label of a feed: its id, except for per-request callback feeds, which all count as
 * `callback` (one feed per request: a label value each would grow without bound).
 */
export const streamLabel = (feedId: string): string => (isCallbackFeed(feedId) ? 'callback' : feedId);

/**
 * The instruments one process updates (/metrics). Counters and the histogram are per process:
 * sum them across processes in Prometheus. Per-stream state (backlog, SETs by state) comes from
 * the database at scrape time instead (streamGauges), so it is right whichever process answers.
 * One instance is built in makeDeps and handed to the modules that count (no global registry).
 */
export function makeAppMetrics(registry: Registry = makeRegistry()) {
  const m = {
    registry,
    setsCreated: registry.counter(
      'scimcast_sets_created_total',
      // Counted inside the change's transaction; a change that later rolls back still counts.
      'SETs signed and stored, per stream.',
      ['stream'],
    ),
    pushAttempts: registry.counter('scimcast_push_attempts_total', 'RFC 8935 push requests by outcome (delivered, rejected, pause, misbehaving, retry).', ['stream', 'outcome']),
    setsDead: registry.counter(
      'scimcast_sets_dead_total',
      'SETs dead-lettered: rejected by a push receiver or reported in a poll setErrs (reason: the err code), or expired by retention (reason "expired").',
      ['stream', 'reason'],
    ),
    setsAcked: registry.counter('scimcast_sets_acked_total', 'SETs acknowledged by RFC 8936 poll clients.', ['stream']),
    pushDelivery: registry.histogram('scimcast_push_delivery_seconds', 'Seconds from a SET being stored to the receiver answering 202.', ['stream'], PUSH_DELIVERY_BUCKETS),
    httpRequests: registry.counter('scimcast_http_requests_total', 'HTTP requests answered, by method, route pattern and status.', ['method', 'route', 'status']),
  };
  /** A SET went to the dead letter with the receiver's err code (push 400, poll setErrs). */
  const deadLettered = (stream: string, err: string): void => m.setsDead.inc({ stream, reason: deadReason(err) });
  return {
    ...m,
    deadLettered,
    /**
     * `count` SETs of a stream expired by retention (prune). reason="expired" is reserved for this:
     * a receiver's own err "expired" is not in the registry, so it counts as "other".
     */
    expired(stream: string, count: number): void {
      if (count > 0) m.setsDead.inc({ stream: streamLabel(stream), reason: EXPIRED_REASON }, count);
    },
    /** One push answer, as classified; a 202 also records commit-to-202 latency, a rejection a dead SET. */
    pushAnswered(feedId: string, out: { kind: PushOutcomeKind; err?: string }, createdAt: Date, now: Date): void {
      const stream = streamLabel(feedId);
      m.pushAttempts.inc({ stream, outcome: out.kind });
      if (out.kind === 'delivered') m.pushDelivery.observe({ stream }, Math.max(0, now.getTime() - createdAt.getTime()) / 1000);
      if (out.kind === 'rejected') deadLettered(stream, out.err ?? '');
    },
  };
}

export type AppMetrics = ReturnType<typeof makeAppMetrics>;

export interface FeedEventStats {
  readonly feedId: string;
  readonly counts: Readonly<Record<'pending' | 'delivered' | 'acked' | 'dead', number>>;
  readonly oldestPendingAt: Date | undefined;
}

/** Scrape-time gauges from one database snapshot, rendered in a registry of their own. */
export function streamGauges(stats: readonly FeedEventStats[], now: Date, outbox?: { waiting: number; oldestAt: Date | undefined }): string {
  const r = makeRegistry();
  if (outbox) {
    r.gauge('scimcast_outbox_changes', 'Committed changes waiting for the fan-out to sign their SETs.', []).set({}, outbox.waiting);
    r.gauge('scimcast_outbox_oldest_seconds', 'Seconds the oldest change has waited for the fan-out; 0 when none waits.', []).set({}, outbox.oldestAt ? Math.max(0, (now.getTime() - outbox.oldestAt.getTime()) / 1000) : 0);
  }
  const backlog = r.gauge('scimcast_stream_backlog', 'Pending (not yet delivered or acknowledged) SETs per stream.', ['stream']);
  const oldest = r.gauge('scimcast_stream_oldest_pending_seconds', 'Seconds the longest-waiting pending SET of a stream has been queued (since stored, redriven or replayed); 0 when none is pending.', ['stream']);
  const sets = r.gauge('scimcast_stream_sets', 'Stored SETs per stream and state; finished SETs are purged after the retention period.', ['stream', 'state']);
  for (const f of stats) {
    backlog.set({ stream: f.feedId }, f.counts.pending);
    oldest.set({ stream: f.feedId }, f.oldestPendingAt ? Math.max(0, (now.getTime() - f.oldestPendingAt.getTime()) / 1000) : 0);
    for (const [state, n] of Object.entries(f.counts)) sets.set({ stream: f.feedId, state }, n);
  }
  return r.render();
}
