import { and, asc, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import type { EnqueueOptions } from './jobs.js';
import type { FeedRow } from './feeds.js';
import { executeNamed } from './raw-query.js';
import { feeds, txnOps, txns } from './schema.js';

export type TxnRow = typeof txns.$inferSelect;
export type TxnOpRow = typeof txnOps.$inferSelect;

export function makeTxnRepo(db: Db) {
  return {
    async insert(row: TxnRow): Promise<void> {
      await db.insert(txns).values(row);
    },
    /**
     * Store requests and add one job each, all in one statement: one round trip, and atomic
     * without a BEGIN and COMMIT of its own (a statement is its own transaction). Async admission
     * is the cheapest write there is; its 202 waits for this statement alone, shared with the
     * admissions that arrived meanwhile (core/group-commit.ts). graphile_worker.add_jobs sends one
     * NOTIFY for all of them: a NOTIFY serialises commits (PostgreSQL holds a global lock from
     * before its commit record until after the WAL flush), so one per batch rather than one per
     * request is what lets admissions share flushes. @see docs/decisions/0002-group-commit.md
     */
    async insertWithJobs(
      items: readonly { row: TxnRow; feed?: FeedRow | undefined }[],
      jobs: readonly { identifier: string; payload: unknown; options?: Omit<EnqueueOptions, 'jobKeyMode'> | undefined }[],
    ): Promise<void> {
      if (items.length === 0) return;
      // A per-request callback's push feed goes in with its request (feeds/callback.ts). It has no
      // authorization_header, so nothing to seal (feeds.ts).
      const feedRecs = items.flatMap(({ feed: f }) =>
        f
          ? [{ id: f.id, owner: f.owner, aud: f.aud, description: f.description, delivery_method: f.deliveryMethod, endpoint_url: f.endpointUrl, authorization_header: null, events_requested: f.eventsRequested, events_delivered: f.eventsDelivered, profile: f.profile, status: f.status, status_reason: f.statusReason, resource_types: f.resourceTypes, default_subjects: f.defaultSubjects, kid_mode: f.kidMode, max_in_flight: f.maxInFlight, created_at: f.createdAt.toISOString(), updated_at: f.updatedAt.toISOString(), callback_txn: f.callbackTxn }]
          : [],
      );
      const recs = items.map(({ row }) => ({
        id: row.id,
        owner: row.owner,
        kind: row.kind,
        method: row.method,
        path: row.path,
        request: row.request,
        if_match: row.ifMatch,
        op_count: row.opCount,
        status: row.status,
        created_at: row.createdAt.toISOString(),
        last_modified: row.lastModified.toISOString(),
        expires_at: row.expiresAt.toISOString(),
        priority: row.priority,
        callback: row.callback,
      }));
      const specs = jobs.map(({ identifier, payload, options: o = {} }) => ({
        identifier,
        payload,
        queue_name: o.queueName ?? null,
        run_at: o.runAt?.toISOString() ?? null,
        max_attempts: o.maxAttempts ?? null,
        job_key: o.jobKey ?? null,
        priority: o.priority ?? null,
      }));
      await db.execute(
        sql`with stored as (
              insert into ${txns} (id, owner, kind, method, path, request, if_match, op_count, status, created_at, last_modified, expires_at, priority, callback)
              select id, owner, kind, method, path, request, if_match, op_count, status, created_at, last_modified, expires_at, priority, callback
              from json_populate_recordset(null::txns, ${JSON.stringify(recs)}::json))
            ${feedRecs.length === 0 ? sql`` : sql`, callback_feeds as (insert into ${feeds} select * from json_populate_recordset(null::feeds, ${JSON.stringify(feedRecs)}::json))`}
            select count(*) from graphile_worker.add_jobs(array(select s from json_populate_recordset(null::graphile_worker.job_spec, ${JSON.stringify(specs)}::json) s))`,
      );
    },
    /** Many requests by id, in no particular order; the missing ones are left out. */
    async getMany(ids: readonly string[]): Promise<TxnRow[]> {
      if (ids.length === 0) return [];
      return db.select().from(txns).where(inArray(txns.id, [...ids]));
    },
    /**
     * The row locks of many requests, taken in id order (two executors locking overlapping sets
     * cannot deadlock), and whether every one of them is still pending with its request stored:
     * none started or finished by another executor meanwhile.
     *
     * A single request's result and its end commit together (async/step.ts), so the status read
     * under the lock says whether a result exists, and only `txns` is read, by its primary key.
     * Asking `txn_ops` instead (`exists … where txn_id = any(…)`) was planned as a sequential scan
     * of every stored result while that table had no statistics, which is the case in the first
     * minutes of a burst into a new database: 5 to 37 ms per batch, growing with the burst.
     */
    async lockAllPending(ids: readonly string[]): Promise<boolean> {
      const list = `{${[...ids].sort().join(',')}}`;
      const r = await executeNamed<{ n: number }>(
        db,
        sql`with locked as (select ${txns.id}, ${txns.status}, ${txns.request} is not null as stored from ${txns} where ${txns.id} = any(${list}::text[]) order by ${txns.id} for update)
            select count(*) filter (where status = 'pending' and stored)::int as n from locked`,
      );
      return r.rows[0]?.n === new Set(ids).size;
    },
    /**
     * Results of several requests, one each, and the end of those requests (`completed`, their
     * stored bodies dropped as in finish), in two statements.
     */
    async recordAndFinish(rows: readonly TxnOpRow[], at: Date): Promise<void> {
      if (rows.length === 0) return;
      await db.insert(txnOps).values([...rows]);
      await db
        .update(txns)
        .set({ status: 'completed', request: null, lastModified: at })
        .where(and(inArray(txns.id, rows.map((r) => r.txnId)), inArray(txns.status, ['pending', 'running'])));
    },
    /** Owner-scoped read: another principal's txn is indistinguishable from a missing one. */
    async get(id: string, owner?: string): Promise<TxnRow | undefined> {
      const rows = await db
        .select()
        .from(txns)
        .where(owner === undefined ? eq(txns.id, id) : and(eq(txns.id, id), eq(txns.owner, owner)));
      return rows[0];
    },
    async list(owner: string, opts: { status?: string | undefined; limit: number }): Promise<TxnRow[]> {
      const where = opts.status ? and(eq(txns.owner, owner), eq(txns.status, opts.status)) : eq(txns.owner, owner);
      return db.select().from(txns).where(where).orderBy(desc(txns.createdAt)).limit(opts.limit);
    },
    /** Serialise executors of one transaction (a retried job racing an inline wait=N run). */
    async lock(id: string): Promise<void> {
      await db.execute(sql`select 1 from ${txns} where ${txns.id} = ${id} for update`);
    },
    /** pending → running. Only from pending: an executor that started late never reopens a finished request. */
    async start(id: string, at: Date): Promise<void> {
      await db.update(txns).set({ status: 'running', lastModified: at }).where(and(eq(txns.id, id), eq(txns.status, 'pending')));
    },
    /**
     * The final outcome, `completed` or `failed`, and the stored request dropped in the same
     * statement: the body can hold cleartext secrets (a `password`, RFC 7643 §7), and once every
     * operation has its result in txn_ops nothing needs it, while the row itself is kept for the
     * whole retention period. A finished request is never finished again (a second executor).
     */
    async finish(id: string, status: 'completed' | 'failed', at: Date): Promise<void> {
      await db
        .update(txns)
        .set({ status, request: null, lastModified: at })
        .where(and(eq(txns.id, id), inArray(txns.status, ['pending', 'running'])));
    },
    /**
     * Record one operation's result. The (txn, index) primary key makes a retried job's second
     * attempt a no-op: returns false when the result already existed.
     */
    async recordOp(row: TxnOpRow): Promise<boolean> {
      const r = await db.insert(txnOps).values(row).onConflictDoNothing().returning({ i: txnOps.opIndex });
      if (r.length > 0) await db.update(txns).set({ lastModified: row.doneAt }).where(eq(txns.id, row.txnId));
      return r.length > 0;
    },
    /** Many results at once (bulk batches); returns the indexes actually inserted. */
    async recordOps(txnId: string, rows: readonly TxnOpRow[], at: Date): Promise<Set<number>> {
      if (rows.length === 0) return new Set();
      const done = new Set<number>();
      // Chunked under PostgreSQL's 65,535 parameters per statement.
      for (let i = 0; i < rows.length; i += 2000) {
        const r = await db.insert(txnOps).values(rows.slice(i, i + 2000)).onConflictDoNothing().returning({ i: txnOps.opIndex });
        for (const x of r) done.add(x.i);
      }
      if (done.size > 0) await db.update(txns).set({ lastModified: at }).where(eq(txns.id, txnId));
      return done;
    },
    async ops(txnId: string): Promise<TxnOpRow[]> {
      return db.select().from(txnOps).where(eq(txnOps.txnId, txnId)).orderBy(asc(txnOps.opIndex));
    },
    /**
     * How many operations of each of these transactions have a result, and how many of those
     * failed: one grouped query for a whole status list. A transaction without results is absent.
     */
    async opCountsOf(txnIds: readonly string[]): Promise<Map<string, { done: number; failed: number }>> {
      if (txnIds.length === 0) return new Map();
      const rows = await db
        .select({ id: txnOps.txnId, done: sql<number>`count(*)::int`, failed: sql<number>`(count(*) filter (where ${txnOps.status}::int >= 400))::int` })
        .from(txnOps)
        .where(inArray(txnOps.txnId, [...txnIds]))
        .groupBy(txnOps.txnId);
      return new Map(rows.map((r) => [r.id, { done: r.done, failed: r.failed }]));
    },
    /**
     * The transaction's row lock and whether operation `index` already has a result, in one round
     * trip (false for a request that no longer exists).
     */
    async lockHasOp(txnId: string, index: number): Promise<boolean> {
      const r = await executeNamed<{ done: boolean }>(
        db,
        sql`select exists (select 1 from ${txnOps} where ${txnOps.txnId} = ${txnId} and ${txnOps.opIndex} = ${index}) as done from ${txns} where ${txns.id} = ${txnId} for update`,
      );
      return r.rows[0]?.done === true;
    },
    /** Whether any of these operations already has a result (a retried batch). */
    async anyOpDone(txnId: string, indexes: readonly number[]): Promise<boolean> {
      if (indexes.length === 0) return false;
      // One array parameter (a PG array literal): drizzle would expand a JS array into a list.
      const r = await db.execute(sql`select 1 from ${txnOps} where ${txnOps.txnId} = ${txnId} and ${txnOps.opIndex} = any(${`{${indexes.join(',')}}`}::int[]) limit 1`);
      return r.rows.length > 0;
    },
    async doneIndexes(txnId: string): Promise<Set<number>> {
      const rows = await db.select({ i: txnOps.opIndex }).from(txnOps).where(eq(txnOps.txnId, txnId));
      return new Set(rows.map((r) => r.i));
    },
    async opCounts(txnId: string): Promise<{ done: number; failed: number }> {
      const r = await db.execute(
        sql`select count(*)::int as done, count(*) filter (where ${txnOps.status}::int >= 400)::int as failed from ${txnOps} where ${txnOps.txnId} = ${txnId}`,
      );
      const row = r.rows[0] as { done: number; failed: number } | undefined;
      return { done: row?.done ?? 0, failed: row?.failed ?? 0 };
    },
    /** How the request's callback ended (feeds/callback.ts); the first end recorded stays. */
    async endCallback(id: string, state: unknown): Promise<void> {
      await db.execute(sql`update ${txns} set callback_state = ${JSON.stringify(state)}::jsonb where ${txns.id} = ${id} and ${txns.callbackState} is null`);
    },
    /** Retention: expired transactions (and their op rows) are removed; afterwards they answer 404. */
    async purgeExpired(now: Date): Promise<number> {
      const r = await db.delete(txns).where(lt(txns.expiresAt, now)).returning({ id: txns.id });
      return r.length;
    },
  };
}
