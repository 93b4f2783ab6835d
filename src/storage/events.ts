import { and, asc, desc, eq, gte, inArray, isNotNull, lte, sql } from 'drizzle-orm';
import { PUSH_METHOD } from '../core/delivery-methods.js';
import type { Db } from './db.js';
import { executeNamed } from './raw-query.js';
import { events } from './schema.js';

export type EventRow = typeof events.$inferSelect;
/** `queuedAt` defaults to `createdAt`: a new SET enters the queue when it is stored. */
export type NewEvent = Pick<EventRow, 'jti' | 'feedId' | 'txn' | 'eventUri' | 'subjectUri' | 'jws' | 'createdAt'> & { queuedAt?: Date };

/** What a push round needs of a pending SET. */
export type PushItem = Pick<EventRow, 'seq' | 'jti' | 'jws' | 'createdAt'>;

/** NOTIFY channel, payload the feed id: long polls and push loops wake as soon as a SET commits. */
export const EVENTS_CHANNEL = 'scimcast_events';

/** SETs per INSERT: a few megabytes of JSON at most. */
const INSERT_CHUNK = 2_000;

export function makeEventRepo(db: Db) {
  return {
    /** Store SETs; NOTIFY is delivered at commit, so listeners never see an uncommitted SET. */
    async insert(rows: NewEvent[]): Promise<void> {
      if (rows.length === 0) return;
      // One JSON parameter per statement rather than eight per row: building a multi-row INSERT
      // of thousands of SETs cost the fan-out more CPU than signing them (bench:fanout-profile).
      // `i` keeps the rows' order, so `seq` follows the commit order of their changes.
      // A jti already stored is the same SET (its jti is derived from the change, ids.ts): kept once.
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const chunk = rows.slice(i, i + INSERT_CHUNK).map((r, k) => ({
          i: k,
          jti: r.jti,
          feed_id: r.feedId,
          txn: r.txn,
          event_uri: r.eventUri,
          subject_uri: r.subjectUri,
          jws: r.jws,
          created_at: r.createdAt.toISOString(),
          queued_at: (r.queuedAt ?? r.createdAt).toISOString(),
        }));
        // The NOTIFY per stream rides on the same statement; it is sent at commit.
        await executeNamed(
          db,
          sql`with stored as (
                insert into ${events} (jti, feed_id, txn, event_uri, subject_uri, jws, created_at, queued_at)
                select jti, feed_id, txn, event_uri, subject_uri, jws, created_at, queued_at
                from json_to_recordset(${JSON.stringify(chunk)}::json)
                  as x(i int, jti text, feed_id text, txn text, event_uri text, subject_uri text, jws text, created_at timestamptz, queued_at timestamptz)
                order by i
                on conflict (jti) do nothing
                returning feed_id)
              select pg_notify(${EVENTS_CHANNEL}, f.feed_id) from (select distinct feed_id from stored) f`,
        );
      }
    },
    /**
     * Wake the push loop serving `feedId` (requeued SETs, a resumed stream): the same NOTIFY as a
     * new SET's, sent when the caller's transaction commits.
     */
    async notify(feedId: string): Promise<void> {
      await db.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${feedId})`);
    },
    /**
     * Enabled push streams with pending SETs: the push loops' safety sweep, for a NOTIFY missed
     * while reconnecting or a stream whose serving process died.
     */
    async pushFeedsWithPending(): Promise<string[]> {
      const r = await db.execute(
        sql`select f.id from feeds f where f.delivery_method = ${PUSH_METHOD} and f.status = 'enabled'
              and exists (select 1 from ${events} e where e.feed_id = f.id and e.state = 'pending')`,
      );
      return (r.rows as { id: string }[]).map((x) => x.id);
    },
    /** Oldest first: commit order (RFC 8417 §5.3 leaves ordering to the profile; provisioning needs it). */
    async pending(feedId: string, limit: number): Promise<EventRow[]> {
      return db
        .select()
        .from(events)
        .where(and(eq(events.feedId, feedId), eq(events.state, 'pending')))
        .orderBy(asc(events.seq))
        .limit(limit);
    },
    /**
     * The next SETs a push round sends, only the columns it needs, in one statement. The push
     * pool's sessions have bitmap scans off (worker/push-delivery.ts), so this walks the
     * (feed_id, state, seq) index as pendingPage does.
     */
    async pushPage(feedId: string, limit: number): Promise<PushItem[]> {
      const r = await db.execute<{ seq: string; jti: string; jws: string; created_at: string }>(
        sql`select seq, jti, jws, created_at from ${events}
            where ${events.feedId} = ${feedId} and ${events.state} = 'pending'
            order by ${events.seq} limit ${limit}`,
      );
      return r.rows.map((x) => ({ seq: Number(x.seq), jti: x.jti, jws: x.jws, createdAt: new Date(x.created_at) }));
    },
    async countPending(feedId: string): Promise<number> {
      const r = await db.execute(sql`select count(*)::int as n from ${events} where ${events.feedId} = ${feedId} and ${events.state} = 'pending'`);
      return Number(r.rows[0]?.n ?? 0);
    },
    /**
     * A poll page (RFC 8936 §2.3): up to `limit` pending SETs of a feed, oldest first, as parallel
     * arrays of jti and compact JWS, and whether more are pending. Only those two columns are read.
     * `except` names jtis to leave out (those a poll acknowledges while this page is read).
     *
     * The read runs with bitmap scans off, in a transaction of its own. A backlog stored faster
     * than autovacuum re-analyses the table looks like a handful of rows to the planner, which then
     * picks a bitmap scan of every pending row of the feed and a sort, for every page: 33 ms per
     * page at 20,000 pending against 0.6 ms for walking the (feed_id, state, seq) index, which
     * yields the rows already in order and stops after `limit + 1`.
     */
    async pendingPage(feedId: string, limit: number, except: readonly string[] = []): Promise<{ jtis: string[]; jws: string[]; more: boolean }> {
      if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, not ${limit}`);
      const rows = await db.transaction(async (tx) => {
        await tx.execute(sql`set local enable_bitmapscan = off`);
        const r = await tx.execute<{ jti: string; jws: string }>(
          sql`select ${events.jti} as jti, ${events.jws} as jws from ${events}
              where ${events.feedId} = ${feedId} and ${events.state} = 'pending'
              ${except.length > 0 ? sql`and ${events.jti} <> all(${sql.param([...except])}::text[])` : sql``}
              order by ${events.seq} limit ${limit + 1}`,
        );
        return r.rows;
      });
      const n = Math.min(rows.length, limit);
      const jtis = new Array<string>(n);
      const jws = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        jtis[i] = rows[i]!.jti;
        jws[i] = rows[i]!.jws;
      }
      return { jtis, jws, more: rows.length > limit };
    },
    /**
     * RFC 8936 §2.4 ack: only pending SETs of this feed; acknowledged SETs are never sent again.
     * One statement whatever the number of jtis: they travel as one text[] parameter (a parameter
     * per jti would make PostgreSQL parse and plan a statement per list length, and stops at
     * 65,535). Returns how many SETs were still pending.
     */
    async ack(feedId: string, jtis: readonly string[], at: Date): Promise<number> {
      if (jtis.length === 0) return 0;
      const r = await db.execute(
        sql`update ${events} set state = 'acked', done_at = ${at.toISOString()}::timestamptz
            where ${events.feedId} = ${feedId} and ${events.state} = 'pending' and ${events.jti} = any(${sql.param([...jtis])}::text[])`,
      );
      return r.rowCount ?? 0;
    },
    /**
     * RFC 8936 §2.4 setErrs: each named SET that is still pending for this feed becomes a dead
     * letter with the receiver's `err` and `description`, in one statement (the list goes as one
     * jsonb parameter). The delivery the receiver refused counts as an attempt. Returns the `err`
     * of each SET that changed, for the metrics.
     */
    async markDeadMany(feedId: string, errs: readonly { jti: string; err: string; description?: string | undefined }[], at: Date): Promise<string[]> {
      if (errs.length === 0) return [];
      const r = await db.execute<{ err: string }>(
        sql`update ${events} e set state = 'dead', err_code = x.err, err_description = x.description, done_at = ${at.toISOString()}::timestamptz, attempts = e.attempts + 1
            from jsonb_to_recordset(${JSON.stringify(errs)}::jsonb) as x(jti text, err text, description text)
            where e.jti = x.jti and e.feed_id = ${feedId} and e.state = 'pending'
            returning e.err_code as err`,
      );
      return r.rows.map((x) => x.err);
    },
    /** Every pending SET of a feed to the dead letter (a per-request callback that ended early). */
    async markPendingDead(feedId: string, err: string, description: string, at: Date): Promise<number> {
      const r = await db
        .update(events)
        .set({ state: 'dead', errCode: err, errDescription: description, doneAt: at })
        .where(and(eq(events.feedId, feedId), eq(events.state, 'pending')))
        .returning({ jti: events.jti });
      return r.length;
    },
    /**
     * One SET to the dead letter. `attempted`: the push that just failed has not been counted yet
     * (a receiver's RFC 8935 §2.4 rejection ends delivery on the attempt that got it), so it is
     * counted here and the dead letter shows every attempt made.
     */
    async markDead(feedId: string, jti: string, err: string, description: string | undefined, at: Date, opts: { attempted?: boolean } = {}): Promise<boolean> {
      const r = await db
        .update(events)
        .set({ state: 'dead', errCode: err, errDescription: description ?? null, doneAt: at, ...(opts.attempted ? { attempts: sql`${events.attempts} + 1` } : {}) })
        .where(and(eq(events.feedId, feedId), eq(events.jti, jti), eq(events.state, 'pending')))
        .returning({ jti: events.jti });
      return r.length > 0;
    },
    /**
     * A failed attempt on a pending SET: count it and keep the last error (operator view).
     * `misbehaving` (a 2xx other than 202, a 3xx) extends the SET's run of consecutive misbehaving
     * answers; any other failure ends it, so earlier 5xx retries never count towards the
     * misbehaving limit.
     */
    async noteAttempt(seq: number, error: string, opts: { misbehaving?: boolean } = {}): Promise<{ attempts: number; misbehavingStreak: number }> {
      const r = await db
        .update(events)
        .set({ attempts: sql`${events.attempts} + 1`, misbehavingStreak: opts.misbehaving ? sql`${events.misbehavingStreak} + 1` : 0, errDescription: error })
        .where(eq(events.seq, seq))
        .returning({ attempts: events.attempts, misbehavingStreak: events.misbehavingStreak });
      return r[0] ?? { attempts: 0, misbehavingStreak: 0 };
    },
    /**
     * Mark SETs delivered, many in one statement, whose commit does not wait for the WAL flush:
     * `set_config(…, true)` sets synchronous_commit off for the statement's own transaction, so
     * this is one round trip. Losing a mark in a database crash only means the same SET, same
     * bytes and `jti`, is pushed again: RFC 8935 delivery is at-least-once and receivers
     * de-duplicate by `jti` (RFC 8935 §2.2, §4). A durable flush per SET was the push path's
     * bottleneck (docs/decisions/0007-at-least-once-push.md).
     */
    async markDelivered(seqs: readonly number[], at: Date): Promise<void> {
      if (seqs.length === 0) return;
      await db.execute(
        sql`update ${events} set state = 'delivered', done_at = ${at.toISOString()}::timestamptz, attempts = attempts + 1
            from (select set_config('synchronous_commit', 'off', true)) as async_commit
            where seq = any(${sql.param(seqs.map(String))}::bigint[])`,
      );
    },
    async byJti(jti: string): Promise<EventRow | undefined> {
      const rows = await db.select().from(events).where(eq(events.jti, jti));
      return rows[0];
    },
    async dead(feedId: string, limit: number): Promise<EventRow[]> {
      return db.select().from(events).where(and(eq(events.feedId, feedId), eq(events.state, 'dead'))).orderBy(asc(events.seq)).limit(limit);
    },
    /**
     * Operator view: when the longest-waiting pending SET was queued (created, or
     * redriven / replayed: the time its retention counts from) and the most recent error of a feed.
     */
    async health(feedId: string): Promise<{ oldestPendingAt: Date | undefined; lastError: { jti: string; state: string; code: string | null; description: string; at: Date | null } | undefined }> {
      const [oldest] = await db.select({ at: events.queuedAt }).from(events).where(and(eq(events.feedId, feedId), eq(events.state, 'pending'))).orderBy(asc(events.queuedAt)).limit(1);
      const [err] = await db
        .select({ jti: events.jti, state: events.state, code: events.errCode, description: events.errDescription, at: events.doneAt })
        .from(events)
        .where(and(eq(events.feedId, feedId), isNotNull(events.errDescription)))
        .orderBy(desc(events.seq))
        .limit(1);
      return { oldestPendingAt: oldest?.at, lastError: err ? { ...err, description: err.description! } : undefined };
    },
    /** Stored SETs (any state) created in [from, to], in seq order after `afterSeq`: `keys revoke` looks for the ones a revoked key signed. */
    async createdBetween(from: Date, to: Date, afterSeq: number, limit: number): Promise<{ seq: number; jws: string }[]> {
      return db
        .select({ seq: events.seq, jws: events.jws })
        .from(events)
        .where(and(sql`${events.seq} > ${afterSeq}`, gte(events.createdAt, from), lte(events.createdAt, to)))
        .orderBy(asc(events.seq))
        .limit(limit);
    },
    /** A SET re-signed with a new key: same payload, same jti; only if its bytes are still `old`. */
    async replaceJws(seq: number, old: string, next: string): Promise<boolean> {
      const r = await db.update(events).set({ jws: next }).where(and(eq(events.seq, seq), eq(events.jws, old))).returning({ seq: events.seq });
      return r.length > 0;
    },
    /** Seq of a feed's SET by jti, to turn jti ranges into seq ranges. */
    async seqOf(feedId: string, jti: string): Promise<number | undefined> {
      const [r] = await db.select({ seq: events.seq }).from(events).where(and(eq(events.feedId, feedId), eq(events.jti, jti)));
      return r?.seq;
    },
    /**
     * Put finished SETs back in the queue, same bytes and jti: `dead` ones for a redrive,
     * `delivered`/`acked` ones for a replay. They keep their seq, so they go out before newer SETs.
     * `at` restarts their retention (queued_at): an old SET requeued is not expired at the next prune.
     * `since` still selects by creation time.
     */
    async requeue(
      feedId: string,
      states: readonly ('dead' | 'delivered' | 'acked')[],
      range: { jtis?: readonly string[]; fromSeq?: number; toSeq?: number; since?: Date },
      at: Date,
    ): Promise<number> {
      const conds = [eq(events.feedId, feedId), inArray(events.state, [...states])];
      // One jsonb parameter for the list: a redrive body may name more jtis than the 65,535
      // parameters a statement can bind, and inArray binds one per element.
      if (range.jtis) conds.push(sql`${events.jti} in (select jsonb_array_elements_text(${JSON.stringify(range.jtis)}::jsonb))`);
      if (range.fromSeq !== undefined) conds.push(gte(events.seq, range.fromSeq));
      if (range.toSeq !== undefined) conds.push(lte(events.seq, range.toSeq));
      if (range.since) conds.push(gte(events.createdAt, range.since));
      const r = await db
        .update(events)
        .set({ state: 'pending', doneAt: null, errCode: null, errDescription: null, attempts: 0, misbehavingStreak: 0, queuedAt: at })
        .where(and(...conds))
        .returning({ seq: events.seq });
      return r.length;
    },
    /**
     * Operator view, in one pass over the feed's SETs: how many are in each state, and how many it
     * finished delivering (pushed, or acknowledged by a poll) in each of the last 60 minutes,
     * oldest minute first, the current minute last. Grouped by state and minute of `done_at`;
     * minutes are counted in epoch minutes, so the session time zone cannot shift a bucket.
     */
    async countsAndDeliveredPerMinute(feedId: string, now: Date): Promise<{ counts: Record<string, number>; deliveredPerMinute: number[] }> {
      const current = Math.floor(now.getTime() / 60_000);
      const first = current - 59;
      const r = await db.execute<{ state: string; minute: string | null; n: number }>(
        sql`select ${events.state} as state,
                   case when ${events.state} in ('delivered', 'acked') and ${events.doneAt} >= ${new Date(first * 60_000).toISOString()}::timestamptz
                        then floor(extract(epoch from ${events.doneAt}) / 60)::bigint end as minute,
                   count(*)::int as n
            from ${events} where ${events.feedId} = ${feedId} group by 1, 2`,
      );
      const counts: Record<string, number> = { pending: 0, delivered: 0, acked: 0, dead: 0 };
      const buckets = new Array<number>(60).fill(0);
      for (const row of r.rows) {
        counts[row.state] = (counts[row.state] ?? 0) + row.n;
        if (row.minute === null) continue;
        // A SET finished "in the future" by a skewed clock counts in the current minute.
        buckets[Math.min(Math.max(Number(row.minute) - first, 0), 59)]! += row.n;
      }
      return { counts, deliveredPerMinute: buckets };
    },
    async countsByState(feedId: string): Promise<Record<string, number>> {
      const r = await db.execute(sql`select ${events.state} as state, count(*)::int as n from ${events} where ${events.feedId} = ${feedId} group by 1`);
      const out: Record<string, number> = { pending: 0, delivered: 0, acked: 0, dead: 0 };
      for (const row of r.rows as { state: string; n: number }[]) out[row.state] = row.n;
      return out;
    },
    /** Finished SETs (acked, delivered, dead) older than the retention are deleted for good. */
    async purgeFinished(before: Date): Promise<number> {
      const r = await db.execute(sql`delete from ${events} where ${events.state} <> 'pending' and ${events.doneAt} < ${before.toISOString()}::timestamptz`);
      return r.rowCount ?? 0;
    },
    /**
     * Retention (RFC 8936 §2: local policy may drop undelivered SETs): SETs pending since before
     * the bound (queued_at: created, redriven or replayed) become dead with the reason "expired".
     * Returns how many, per feed, for the metrics.
     */
    async expire(before: Date, at: Date): Promise<{ feedId: string; count: number }[]> {
      const r = await db.execute(
        sql`with expired as (
              update ${events} set state = 'dead', err_code = 'expired', err_description = 'not acknowledged within the retention period', done_at = ${at.toISOString()}::timestamptz
              where ${events.state} = 'pending' and ${events.queuedAt} < ${before.toISOString()}::timestamptz
              returning ${events.feedId})
            select feed_id, count(*)::int as n from expired group by feed_id order by feed_id`,
      );
      return (r.rows as { feed_id: string; n: number }[]).map((x) => ({ feedId: x.feed_id, count: x.n }));
    },
    /**
     * Metrics gauges, read at scrape time so every process reports the same numbers: per feed
     * (feeds without SETs too), SETs by state and when the longest-waiting pending one was queued.
     * One grouped query. Per-request callback feeds are left out: a gauge per request would grow
     * without bound; the request's status resource shows where its callback stands.
     */
    async statsByFeed(): Promise<{ feedId: string; counts: Record<'pending' | 'delivered' | 'acked' | 'dead', number>; oldestPendingAt: Date | undefined }[]> {
      const r = await db.execute(
        sql`select f.id as feed_id, e.state, count(e.seq)::int as n, extract(epoch from min(e.queued_at))::float8 as oldest
            from feeds f left join ${events} e on e.feed_id = f.id where f.callback_txn is null group by f.id, e.state order by f.id`,
      );
      const byFeed = new Map<string, { feedId: string; counts: Record<'pending' | 'delivered' | 'acked' | 'dead', number>; oldestPendingAt: Date | undefined }>();
      for (const row of r.rows as { feed_id: string; state: string | null; n: number; oldest: number | null }[]) {
        let f = byFeed.get(row.feed_id);
        if (!f) byFeed.set(row.feed_id, (f = { feedId: row.feed_id, counts: { pending: 0, delivered: 0, acked: 0, dead: 0 }, oldestPendingAt: undefined }));
        if (row.state === 'pending' || row.state === 'delivered' || row.state === 'acked' || row.state === 'dead') f.counts[row.state] = row.n;
        if (row.state === 'pending' && row.oldest !== null) f.oldestPendingAt = new Date(row.oldest * 1000);
      }
      return [...byFeed.values()];
    },
  };
}
