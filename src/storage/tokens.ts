import { count, eq, isNull, and } from 'drizzle-orm';
import type { Db } from './db.js';
import { apiTokens } from './schema.js';

export type TokenRow = typeof apiTokens.$inferSelect;

export function makeTokenRepo(db: Db) {
  return {
    async insert(row: TokenRow): Promise<void> {
      await db.insert(apiTokens).values(row).onConflictDoNothing();
    },
    async findByHash(tokenHash: string): Promise<TokenRow | undefined> {
      const rows = await db
        .select()
        .from(apiTokens)
        .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)));
      return rows[0];
    },
    async count(): Promise<number> {
      const [r] = await db.select({ n: count() }).from(apiTokens);
      return Number(r?.n ?? 0);
    },
    async list(): Promise<Omit<TokenRow, 'tokenHash'>[]> {
      const rows = await db.select().from(apiTokens).orderBy(apiTokens.createdAt);
      return rows.map(({ tokenHash: _h, ...rest }) => rest);
    },
    async revoke(id: string, at: Date): Promise<boolean> {
      const r = await db.update(apiTokens).set({ revokedAt: at }).where(eq(apiTokens.id, id)).returning({ id: apiTokens.id });
      return r.length > 0;
    },
  };
}
