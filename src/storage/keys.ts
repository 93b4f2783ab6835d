import { and, desc, eq, isNotNull, isNull, lt, notExists, sql } from 'drizzle-orm';
import type { SecretBox, SecretSlot } from '../core/secret-box.js';
import type { Db } from './db.js';
import { events, signingKeys } from './schema.js';

export type SigningKeyRow = typeof signingKeys.$inferSelect;
export type NewSigningKey = SigningKeyRow;
/** What the JWKS and `keys list` need: never the private JWK. */
export type SigningKeyInfo = Omit<SigningKeyRow, 'privateJwk'>;

const slot = (kid: string): SecretSlot => ({ column: 'signing_keys.private_jwk', id: kid });

const info = {
  kid: signingKeys.kid,
  alg: signingKeys.alg,
  publicJwk: signingKeys.publicJwk,
  createdAt: signingKeys.createdAt,
  retiredAt: signingKeys.retiredAt,
};

export function makeKeyRepo(db: Db, box: SecretBox) {
  const sealed = (row: NewSigningKey) => ({ ...row, privateJwk: box.sealJson(row.privateJwk, slot(row.kid)) });
  return {
    /** The newest unretired key signs (issue 5 §5); its private JWK opened. */
    async current(): Promise<SigningKeyRow | undefined> {
      const rows = await db.select().from(signingKeys).where(isNull(signingKeys.retiredAt)).orderBy(desc(signingKeys.createdAt)).limit(1);
      return rows[0] && { ...rows[0], privateJwk: box.openJson(rows[0].privateJwk, slot(rows[0].kid)) };
    },
    /** Every key, newest first, for the JWKS and `keys list`. */
    async all(): Promise<SigningKeyInfo[]> {
      return db.select(info).from(signingKeys).orderBy(desc(signingKeys.createdAt));
    },
    /** Insert a key and retire the previous signer, atomically when called inside withTx. */
    async rotate(row: NewSigningKey, at: Date): Promise<void> {
      await db.update(signingKeys).set({ retiredAt: at }).where(isNull(signingKeys.retiredAt));
      await db.insert(signingKeys).values(sealed(row));
    },
    async insertIfNone(row: NewSigningKey): Promise<boolean> {
      const existing = await db.select({ kid: signingKeys.kid }).from(signingKeys).where(isNull(signingKeys.retiredAt)).limit(1);
      if (existing.length > 0) return false;
      await db.insert(signingKeys).values(sealed(row)).onConflictDoNothing();
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
    /**
     * Bring every private JWK to the form this configuration writes (at start): encrypt plaintext
     * ones under the KEK, re-encrypt those under the previous KEK. Opening each one first is also
     * the start-time check that the configured KEK reads what is stored (a clear error if not).
     * The update is conditional, so replicas starting together do not undo each other.
     */
    async reseal(): Promise<number> {
      const rows = await db.select({ kid: signingKeys.kid, privateJwk: signingKeys.privateJwk }).from(signingKeys);
      let n = 0;
      for (const r of rows) {
        if (box.isCurrentJson(r.privateJwk)) continue;
        const plain = box.openJson(r.privateJwk, slot(r.kid));
        const u = await db
          .update(signingKeys)
          .set({ privateJwk: box.sealJson(plain, slot(r.kid)) })
          .where(and(eq(signingKeys.kid, r.kid), sql`${signingKeys.privateJwk} = ${JSON.stringify(r.privateJwk)}::jsonb`))
          .returning({ kid: signingKeys.kid });
        n += u.length;
      }
      return n;
    },
  };
}
