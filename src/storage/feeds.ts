import { and, asc, eq, inArray, isNotNull, isNull, ne, sql } from 'drizzle-orm';
import type { SecretBox, SecretSlot } from '../core/secret-box.js';
import type { Db } from './db.js';
import { feedSubjects, feeds } from './schema.js';

export type FeedRow = typeof feeds.$inferSelect;

const slot = (id: string): SecretSlot => ({ column: 'feeds.authorization_header', id });

/**
 * The push authorization_header is sealed on the way in and opened on the way out
 * (core/secret-box.ts): above storage, a FeedRow always carries the plaintext header.
 */
export function makeFeedRepo(db: Db, box: SecretBox) {
  const open = (row: FeedRow): FeedRow => (row.authorizationHeader == null ? row : { ...row, authorizationHeader: box.openText(row.authorizationHeader, slot(row.id)) });
  const opened = (rows: FeedRow[]) => rows.map(open);
  return {
    async insert(row: FeedRow): Promise<void> {
      await db.insert(feeds).values(row.authorizationHeader == null ? row : { ...row, authorizationHeader: box.sealText(row.authorizationHeader, slot(row.id)) });
    },
    async get(id: string): Promise<FeedRow | undefined> {
      const rows = await db.select().from(feeds).where(eq(feeds.id, id));
      return rows[0] && open(rows[0]);
    },
    /** Every stream, for the operator CLI. */
    async all(): Promise<FeedRow[]> {
      return opened(await db.select().from(feeds).orderBy(asc(feeds.createdAt), asc(feeds.id)));
    },
    /** The owner's streams; per-request callback feeds are not streams the owner made. */
    async listByOwner(owner: string): Promise<FeedRow[]> {
      return opened(await db.select().from(feeds).where(and(eq(feeds.owner, owner), isNull(feeds.callbackTxn))).orderBy(asc(feeds.createdAt), asc(feeds.id)));
    },
    /**
     * Per-request callback feeds with nothing pending: the hourly prune ends those whose end a
     * worker did not get to record (it stopped between the last answer and the end).
     */
    async idleCallbacks(limit: number): Promise<FeedRow[]> {
      const r = await db.execute<{ id: string }>(
        sql`select f.id from ${feeds} f where f.callback_txn is not null
              and not exists (select 1 from events e where e.feed_id = f.id and e.state = 'pending')
            order by f.created_at limit ${limit}`,
      );
      if (r.rows.length === 0) return [];
      return opened(await db.select().from(feeds).where(inArray(feeds.id, r.rows.map((x) => x.id))));
    },
    async update(id: string, patch: Partial<Omit<FeedRow, 'id' | 'owner' | 'createdAt'>>): Promise<FeedRow | undefined> {
      const set = patch.authorizationHeader == null ? patch : { ...patch, authorizationHeader: box.sealText(patch.authorizationHeader, slot(id)) };
      const rows = await db.update(feeds).set(set).where(eq(feeds.id, id)).returning();
      return rows[0] && open(rows[0]);
    },
    async delete(id: string): Promise<boolean> {
      const r = await db.delete(feeds).where(eq(feeds.id, id)).returning({ id: feeds.id });
      return r.length > 0;
    },
    /**
     * Feeds that take new events: enabled and paused ones (a paused stream keeps its events;
     * a disabled one drops them, SSF 1.0 §8.1.2). Read on every change, so it is one indexed scan.
     */
    async accepting(): Promise<FeedRow[]> {
      return opened(await db.select().from(feeds).where(ne(feeds.status, 'disabled')).orderBy(asc(feeds.createdAt)));
    },
    /** True when the subject was not on the feed (a removed one is added again). */
    async addSubject(feedId: string, subjectUri: string): Promise<boolean> {
      const r = await db
        .insert(feedSubjects)
        .values({ feedId, subjectUri })
        .onConflictDoUpdate({
          target: [feedSubjects.feedId, feedSubjects.subjectUri],
          set: { addedSnapshot: sql`pg_current_snapshot()::text`, removedSnapshot: null },
          setWhere: isNotNull(feedSubjects.removedSnapshot),
        })
        .returning({ s: feedSubjects.subjectUri });
      return r.length > 0;
    },
    /**
     * The row stays, marked with the removal's snapshot, until no change committed before the
     * removal waits for fan-out (feeds/fanout.ts prunes it): such a change still goes to the feed.
     */
    async removeSubject(feedId: string, subjectUri: string): Promise<boolean> {
      const r = await db
        .update(feedSubjects)
        .set({ removedSnapshot: sql`pg_current_snapshot()::text` })
        .where(and(eq(feedSubjects.feedId, feedId), eq(feedSubjects.subjectUri, subjectUri), isNull(feedSubjects.removedSnapshot)))
        .returning({ s: feedSubjects.subjectUri });
      return r.length > 0;
    },
    async touch(id: string, at: Date): Promise<void> {
      await db.update(feeds).set({ updatedAt: at }).where(eq(feeds.id, id));
    },
    /**
     * Bring every authorization_header to the form this configuration writes (at start): encrypt
     * plaintext ones, re-encrypt those under the previous KEK; opening each is also the start-time
     * check that the configured KEK reads them. Conditional, so replicas starting together agree.
     */
    async reseal(): Promise<number> {
      const rows = await db.select({ id: feeds.id, h: feeds.authorizationHeader }).from(feeds).where(isNotNull(feeds.authorizationHeader));
      let n = 0;
      for (const r of rows) {
        if (r.h == null || box.isCurrentText(r.h)) continue;
        const plain = box.openText(r.h, slot(r.id));
        const u = await db
          .update(feeds)
          .set({ authorizationHeader: box.sealText(plain, slot(r.id)) })
          .where(and(eq(feeds.id, r.id), eq(feeds.authorizationHeader, r.h)))
          .returning({ id: feeds.id });
        n += u.length;
      }
      return n;
    },
    count: async () => Number((await db.execute(sql`select count(*)::int as n from feeds`)).rows[0]?.n ?? 0),
    /**
     * For a create under the stream caps, inside withTx: waits for any other create to commit
     * (a transaction-scoped advisory lock, held until this transaction ends), then counts the
     * owner's streams and all of them. Two creates, in any processes, cannot both count the last
     * free slot; a delete needs no lock, it only frees one.
     */
    async lockAndCount(owner: string): Promise<{ owner: number; total: number }> {
      await db.execute(sql`select pg_advisory_xact_lock(hashtext('scimcast:feeds:create'))`);
      // Per-request callback feeds are not streams: each carries one request's SETs and then goes.
      const r = await db.execute(sql`select (count(*) filter (where owner = ${owner}))::int as owner, count(*)::int as total from feeds where callback_txn is null`);
      return { owner: Number(r.rows[0]?.owner ?? 0), total: Number(r.rows[0]?.total ?? 0) };
    },
  };
}
