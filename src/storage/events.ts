import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { events } from './schema.js';

export type EventRow = typeof events.$inferSelect;
export type NewEvent = Pick<EventRow, 'jti' | 'feedId' | 'txn' | 'eventUri' | 'subjectUri' | 'jws' | 'createdAt'>;

/** NOTIFY channel: long polls and push wake as soon as a SET commits (issue 5 §7). */
export const EVENTS_CHANNEL = 'scimcast_events';

export function makeEventRepo(db: Db) {
  return {
    /** Store SETs; NOTIFY is delivered at commit, so listeners never see an uncommitted SET. */
    async insert(rows: NewEvent[]): Promise<void> {
      if (rows.length === 0) return;
      await db.insert(events).values(rows);
      const feedIds = [...new Set(rows.map((r) => r.feedId))];
      for (const f of feedIds) await db.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${f})`);
    },
    /** Oldest first (commit order, Q-22). */
    async pending(feedId: string, limit: number): Promise<EventRow[]> {
      return db
        .select()
        .from(events)
        .where(and(eq(events.feedId, feedId), eq(events.state, 'pending')))
        .orderBy(asc(events.seq))
        .limit(limit);
    },
    async countPending(feedId: string): Promise<number> {
      const r = await db.execute(sql`select count(*)::int as n from ${events} where ${events.feedId} = ${feedId} and ${events.state} = 'pending'`);
      return Number(r.rows[0]?.n ?? 0);
    },
    /** RFC 8936 ack: only pending SETs of this feed; acknowledged SETs are never sent again. */
    async ack(feedId: string, jtis: string[], at: Date): Promise<number> {
      if (jtis.length === 0) return 0;
      const r = await db
        .update(events)
        .set({ state: 'acked', doneAt: at })
        .where(and(eq(events.feedId, feedId), eq(events.state, 'pending'), inArray(events.jti, jtis)))
        .returning({ jti: events.jti });
      return r.length;
    },
    async markDead(feedId: string, jti: string, err: string, description: string | undefined, at: Date): Promise<boolean> {
      const r = await db
        .update(events)
        .set({ state: 'dead', errCode: err, errDescription: description ?? null, doneAt: at })
        .where(and(eq(events.feedId, feedId), eq(events.jti, jti), eq(events.state, 'pending')))
        .returning({ jti: events.jti });
      return r.length > 0;
    },
    /** A failed attempt on a pending SET: count it and keep the last error (operator view). */
    async noteAttempt(seq: number, error: string): Promise<number> {
      const r = await db
        .update(events)
        .set({ attempts: sql`${events.attempts} + 1`, errDescription: error })
        .where(eq(events.seq, seq))
        .returning({ attempts: events.attempts });
      return r[0]?.attempts ?? 0;
    },
    async markDelivered(seq: number, at: Date): Promise<void> {
      await db.update(events).set({ state: 'delivered', doneAt: at, attempts: sql`${events.attempts} + 1` }).where(eq(events.seq, seq));
    },
    async byTxn(txnPrefix: string): Promise<EventRow[]> {
      return db.select().from(events).where(sql`${events.txn} = ${txnPrefix} or ${events.txn} like ${`${txnPrefix}:%`} or ${events.txn} like ${`${txnPrefix}-%`}`).orderBy(asc(events.seq));
    },
    async byJti(jti: string): Promise<EventRow | undefined> {
      const rows = await db.select().from(events).where(eq(events.jti, jti));
      return rows[0];
    },
    async dead(feedId: string, limit: number): Promise<EventRow[]> {
      return db.select().from(events).where(and(eq(events.feedId, feedId), eq(events.state, 'dead'))).orderBy(asc(events.seq)).limit(limit);
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
    /** Retention (POLL-13): unacknowledged SETs older than the bound become dead with a reason. */
    async expire(before: Date, at: Date): Promise<number> {
      const r = await db
        .update(events)
        .set({ state: 'dead', errCode: 'expired', errDescription: 'not acknowledged within the retention period', doneAt: at })
        .where(and(eq(events.state, 'pending'), lt(events.createdAt, before)))
        .returning({ seq: events.seq });
      return r.length;
    },
  };
}
