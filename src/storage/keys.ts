import { and, desc, eq, isNotNull, isNull, lt, notExists, sql } from 'drizzle-orm';
import type { SecretBox, SecretSlot } from '../core/secret-box.js';
import type { Db } from './db.js';
import { events, signingKeys } from './schema.js';

export type SigningKeyRow = typeof signingKeys.$inferSelect;
export type NewSigningKey = Omit<SigningKeyRow, 'revokedAt'>;
/** What the JWKS and `keys list` need: never the private JWK. */
export type SigningKeyInfo = Omit<SigningKeyRow, 'privateJwk'>;

const slot = (kid: string): SecretSlot => ({ column: 'signing_keys.private_jwk', id: kid });

const info = {
  kid: signingKeys.kid,
  alg: signingKeys.alg,
  publicJwk: signingKeys.publicJwk,
  createdAt: signingKeys.createdAt,
  retiredAt: signingKeys.retiredAt,
  revokedAt: signingKeys.revokedAt,
};

/** The signer: newest key neither retired nor revoked. */
const signing = and(isNull(signingKeys.retiredAt), isNull(signingKeys.revokedAt));

export function makeKeyRepo(db: Db, box: SecretBox) {
  const sealed = (row: NewSigningKey) => ({ ...row, privateJwk: box.sealJson(row.privateJwk, slot(row.kid)) });
  return {
    /** The newest key neither retired nor revoked signs; its private JWK opened. */
    async current(): Promise<SigningKeyRow | undefined> {
      const rows = await db.select().from(signingKeys).where(signing).orderBy(desc(signingKeys.createdAt)).limit(1);
      return rows[0] && { ...rows[0], privateJwk: box.openJson(rows[0].privateJwk, slot(rows[0].kid)) };
    },
    /**
     * The signer's kid, locked FOR KEY SHARE until the caller's transaction ends: `revoke` takes
     * the row FOR UPDATE, so it waits for every transaction still signing with the key, and a
     * transaction that asks after the revocation commits no longer finds it (the re-check of the
     * locked row fails; `undefined` then means "ask again", not "no key"). Rotation updates a
     * non-key column and does not wait. The same lock foreign keys take on a referenced row.
     */
    async lockCurrentKid(): Promise<string | undefined> {
      const rows = await db.select({ kid: signingKeys.kid }).from(signingKeys).where(signing).orderBy(desc(signingKeys.createdAt)).limit(1).for('key share');
      return rows[0]?.kid;
    },
    /** A key that may still sign, its private JWK opened; undefined when unknown or revoked. */
    async signer(kid: string): Promise<SigningKeyRow | undefined> {
      const rows = await db.select().from(signingKeys).where(and(eq(signingKeys.kid, kid), isNull(signingKeys.revokedAt)));
      return rows[0] && { ...rows[0], privateJwk: box.openJson(rows[0].privateJwk, slot(rows[0].kid)) };
    },
    /** Every key, newest first, for `keys list`. */
    async all(): Promise<SigningKeyInfo[]> {
      return db.select(info).from(signingKeys).orderBy(desc(signingKeys.createdAt));
    },
    /** The keys the JWKS publishes: all but the revoked ones. */
    async published(): Promise<SigningKeyInfo[]> {
      return db.select(info).from(signingKeys).where(isNull(signingKeys.revokedAt)).orderBy(desc(signingKeys.createdAt));
    },
    async info(kid: string): Promise<SigningKeyInfo | undefined> {
      return (await db.select(info).from(signingKeys).where(eq(signingKeys.kid, kid)))[0];
    },
    /** Insert a key and retire the previous signer, atomically when called inside withTx. */
    async rotate(row: NewSigningKey, at: Date): Promise<void> {
      await db.update(signingKeys).set({ retiredAt: at }).where(isNull(signingKeys.retiredAt));
      await db.insert(signingKeys).values(sealed(row));
    },
    async insertIfNone(row: NewSigningKey): Promise<boolean> {
      const existing = await db.select({ kid: signingKeys.kid }).from(signingKeys).where(signing).limit(1);
      if (existing.length > 0) return false;
      await db.insert(signingKeys).values(sealed(row)).onConflictDoNothing();
      return true;
    },
    /**
     * Revoke `kid` (call inside withTx). The row is locked FOR UPDATE first, which waits for the
     * transactions signing with it (see lockCurrentKid). A key that still signs is replaced by
     * `replacement` in the same transaction, so there is always a signer. The private JWK is
     * erased: a compromised key has no further use here.
     */
    async revoke(kid: string, at: Date, replacement: NewSigningKey): Promise<{ found: false } | { found: true; already: boolean; before: SigningKeyInfo; replacedBy: string | undefined }> {
      const rows = await db.select(info).from(signingKeys).where(eq(signingKeys.kid, kid)).for('update');
      const before = rows[0];
      if (!before) return { found: false };
      if (before.revokedAt) return { found: true, already: true, before, replacedBy: undefined };
      let replacedBy: string | undefined;
      if (!before.retiredAt) {
        await db.update(signingKeys).set({ retiredAt: at }).where(isNull(signingKeys.retiredAt));
        await db.insert(signingKeys).values(sealed(replacement));
        replacedBy = replacement.kid;
      }
      await db
        .update(signingKeys)
        .set({ revokedAt: at, retiredAt: sql`coalesce(${signingKeys.retiredAt}, ${at.toISOString()}::timestamptz)`, privateJwk: {} })
        .where(eq(signingKeys.kid, kid));
      return { found: true, already: false, before, replacedBy };
    },
    /**
     * Retired before `before` and needed by no stored SET: a key signed only SETs
     * created before it retired (plus the signer cache's 10 s, a minute with clock skew), and
     * acknowledged or dead SETs stay stored, replayable, for a retention after they finish.
     * Revoked keys stay: their row is the record of the revocation (no key material is left).
     */
    async removeRetiredBefore(before: Date): Promise<number> {
      const signedByIt = db.select({ one: sql`1` }).from(events).where(lt(events.createdAt, sql`${signingKeys.retiredAt} + interval '1 minute'`));
      const r = await db
        .delete(signingKeys)
        .where(and(isNotNull(signingKeys.retiredAt), isNull(signingKeys.revokedAt), lt(signingKeys.retiredAt, before), notExists(signedByIt)))
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
      const rows = await db.select({ kid: signingKeys.kid, privateJwk: signingKeys.privateJwk }).from(signingKeys).where(isNull(signingKeys.revokedAt));
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
