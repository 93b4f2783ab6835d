import { and, desc, isNotNull, isNull, lt, notExists, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { events, signingKeys } from './schema.js';

export type SigningKeyRow = typeof signingKeys.$inferSelect;

export function makeKeyRepo(db: Db) {
  return {
    /** The newest unretired key signs (issue 5 §5). */
    async current(): Promise<SigningKeyRow | undefined> {
      const rows = await db.select().from(signingKeys).where(isNull(signingKeys.retiredAt)).orderBy(desc(signingKeys.createdAt)).limit(1);
      return rows[0];
    },
    async all(): Promise<SigningKeyRow[]> {
      return db.select().from(signingKeys).orderBy(desc(signingKeys.createdAt));
    },
    /** Insert a key and retire the previous signer, atomically when called inside withTx. */
    async rotate(row: SigningKeyRow, at: Date): Promise<void> {
      await db.update(signingKeys).set({ retiredAt: at }).where(isNull(signingKeys.retiredAt));
      await db.insert(signingKeys).values(row);
    },
    async insertIfNone(row: SigningKeyRow): Promise<boolean> {
      const existing = await db.select({ kid: signingKeys.kid }).from(signingKeys).where(isNull(signingKeys.retiredAt)).limit(1);
      if (existing.length > 0) return false;
      await db.insert(signingKeys).values(row).onConflictDoNothing();
      return true;
    },
    /**
     * Retired before `before` and needed by no stored SET (issue 5 §5): a key signed only SETs
     * created before it retired (plus the signer cache's 10 s, a minute with clock skew), and
     * acknowledged or dead SETs stay stored, replayable, for a retention after they finish.
     */
    async removeRetiredBefore(before: Date): Promise<number> {
      const signedByIt = db.select({ one: sql`1` }).from(events).where(lt(events.createdAt, sql`${signingKeys.retiredAt} + interval '1 minute'`));
      const r = await db
        .delete(signingKeys)
        .where(and(isNotNull(signingKeys.retiredAt), lt(signingKeys.retiredAt, before), notExists(signedByIt)))
        .returning({ kid: signingKeys.kid });
      return r.length;
    },
  };
}
