import { count, eq, isNull, and, sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Db } from './db.js';
import { listenChannel, type ChannelListener } from './notify.js';
import { apiTokens } from './schema.js';

export type TokenRow = typeof apiTokens.$inferSelect;

/**
 * NOTIFY channel, payload the revoked token's id: every API process drops the token from its
 * cache of verified tokens (auth/token-cache.ts) as soon as the revocation commits.
 */
export const TOKENS_CHANNEL = 'scimcast_tokens';

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
    /**
     * The NOTIFY rides on the UPDATE's statement, so it is sent exactly when the revocation
     * commits (never for one rolled back) and costs no extra round trip. The payload is the id,
     * which logs and `token list` show anyway; never the hash.
     */
    async revoke(id: string, at: Date): Promise<boolean> {
      const r = await db.execute<{ id: string }>(
        sql`with revoked as (
              update ${apiTokens} set revoked_at = ${at.toISOString()}::timestamptz where id = ${id} returning id)
            select id, pg_notify(${TOKENS_CHANNEL}, id) from revoked`,
      );
      return r.rows.length > 0;
    },
  };
}

/**
 * Revocations as they commit, on this process's own LISTEN connection. `onRevoked` gets each
 * revoked token's id. `onReset` is called whenever notifications may have been missed: the
 * connection was lost, or has just been (re)established; a cache must then forget what it holds.
 * Connects on the first `live()` call, so processes that never authenticate (worker, CLI) hold no
 * connection for it.
 */
export function makeTokenRevocationFeed(pool: pg.Pool, on: { onRevoked(id: string): void; onReset(): void }): ChannelListener {
  return listenChannel(pool, TOKENS_CHANNEL, { notify: on.onRevoked, up: on.onReset, down: on.onReset });
}
