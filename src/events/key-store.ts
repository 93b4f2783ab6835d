import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { SigningKeyInfo, Storage } from '../storage/index.js';
import { generateSigningKey, publicJwks, type SigningAlg } from './keys.js';
import { makeResigner } from './resign.js';
import type { SignerKey } from './sign.js';

const kidFor = (now: Date, alg: string, rand: string) => `${alg.toLowerCase()}-${now.toISOString().slice(0, 10)}-${rand}`;

/** On first start there is no key: make one, so SETs are signed with no setup step. Safe when replicas race. */
export async function ensureSigningKey(storage: Storage, clock: Clock, rand: () => string, alg: SigningAlg = 'ES256'): Promise<void> {
  if (await storage.keys.lockCurrentKid()) return;
  const now = clock.now();
  const k = await generateSigningKey(alg, kidFor(now, alg, rand()));
  await storage.keys.insertIfNone({ ...k, createdAt: now, retiredAt: null });
}

/** `scimcast keys rotate`: a new signer; older public keys stay published for stored SETs. */
export async function rotateSigningKey(storage: Storage, clock: Clock, rand: () => string, alg: SigningAlg = 'ES256'): Promise<string> {
  const now = clock.now();
  const k = await generateSigningKey(alg, kidFor(now, alg, rand()));
  await storage.withTx((s) => s.keys.rotate({ ...k, createdAt: now, retiredAt: null }, now));
  return k.kid;
}

/**
 * The current signer, checked once per signing transaction: the kid is read (and locked, see
 * `keys.lockCurrentKid`) through `storage`, the signing transaction (see SetSigner), never a
 * second pooled connection. The private key is read and decrypted only when the kid changes. So a
 * rotation or a revocation reaches every process at its next signing transaction, and no
 * transaction signs with a key revoked before it asked. `ttlMs` bounds how long one storage
 * handle (a long transaction, or the pool outside one) keeps its answer.
 */
export function currentKeyLoader(clock: Clock, ttlMs = 10_000): (storage: Storage) => Promise<SignerKey> {
  const checked = new WeakMap<Storage, { key: SignerKey; at: number }>();
  // One question per storage handle at a time: a transaction signing many SETs at once (a bulk
  // batch's results) must not queue the same query many times on its one connection, which pg
  // deprecates ("client is already executing a query").
  const asking = new WeakMap<Storage, Promise<SignerKey>>();
  let loaded: SignerKey | undefined;
  const ask = async (storage: Storage, now: number): Promise<SignerKey> => {
    // A revocation committing while this asks makes the locked row fail its re-check: ask again,
    // the next statement sees the replacement key.
    for (let attempt = 0; attempt < 5; attempt++) {
      const kid = await storage.keys.lockCurrentKid();
      if (!kid) continue;
      if (loaded?.kid !== kid) {
        const row = await storage.keys.signer(kid);
        if (!row) continue;
        loaded = { kid: row.kid, alg: row.alg, privateJwk: row.privateJwk as SignerKey['privateJwk'] };
      }
      checked.set(storage, { key: loaded, at: now });
      return loaded;
    }
    throw new AppError('ERR_SIGNING_KEY_MISSING', 'no signing key: ensureSigningKey() runs at start');
  };
  return (storage) => {
    const now = clock.now().getTime();
    const memo = checked.get(storage);
    if (memo && now - memo.at < ttlMs) return Promise.resolve(memo.key);
    const pending = asking.get(storage);
    if (pending) return pending;
    const p = ask(storage, now).finally(() => asking.delete(storage));
    asking.set(storage, p);
    return p;
  };
}

/** GET /jwks.json: every key still in the table and not revoked, public members only. */
export async function jwksDocument(storage: Storage) {
  return publicJwks(await storage.keys.published());
}

export type RevokeResult =
  | { status: 'unknown' }
  | { status: 'revoked' | 'already-revoked'; kid: string; replacedBy: string | undefined; signer: string; resigned: number };

/**
 * `scimcast keys revoke KID`: a compromised key leaves the JWKS at once and never signs again.
 * A key that still signs is replaced by a new one (`alg`, else its own algorithm) in the same
 * transaction, so signing never stops. Then every stored SET it signed, whatever its state
 * (pending ones are still to be sent; finished ones can be replayed), is re-signed with the
 * current key, same payload and jti: receivers would otherwise reject them, the key no longer
 * being published. Running it again on a revoked key repeats only the re-signing (idempotent, e.g.
 * after an interrupted run).
 */
export async function revokeSigningKey(storage: Storage, clock: Clock, rand: () => string, kid: string, alg?: SigningAlg): Promise<RevokeResult> {
  const known = await storage.keys.info(kid);
  if (!known) return { status: 'unknown' };
  const now = clock.now();
  const newAlg = alg ?? (known.alg as SigningAlg);
  const k = await generateSigningKey(newAlg, kidFor(now, newAlg, rand()));
  const r = await storage.withTx((s) => s.keys.revoke(kid, now, { ...k, createdAt: now, retiredAt: null }));
  if (!r.found) return { status: 'unknown' };
  const signer = await storage.keys.current();
  if (!signer) throw new AppError('ERR_SIGNING_KEY_MISSING', 'no signing key after the revocation');
  const resigned = await resignSetsOf(storage, r.before, now, { kid: signer.kid, alg: signer.alg, privateJwk: signer.privateJwk as SignerKey['privateJwk'] });
  return { status: r.already ? 'already-revoked' : 'revoked', kid, replacedBy: r.replacedBy, signer: signer.kid, resigned };
}

/**
 * The SETs a key can have signed were created while it signed: from its creation until it
 * retired, a minute either side for clock skew and transactions still signing with it (the
 * same window removeRetiredBefore assumes). Each one is checked (kid, else the signature against
 * the revoked public key: streams with `kid_mode: issuer` carry the issuer in `kid`).
 */
async function resignSetsOf(storage: Storage, key: SigningKeyInfo, revokedAt: Date, signer: SignerKey, batch = 500): Promise<number> {
  const from = new Date(key.createdAt.getTime() - 60_000);
  const to = new Date((key.retiredAt ?? revokedAt).getTime() + 60_000);
  const resign = makeResigner(key, signer);
  let after = 0;
  let n = 0;
  for (;;) {
    const rows = await storage.events.createdBetween(from, to, after, batch);
    if (rows.length === 0) return n;
    after = rows[rows.length - 1]!.seq;
    for (const row of rows) {
      const next = await resign(row.jws);
      if (next && (await storage.events.replaceJws(row.seq, row.jws, next))) n++;
    }
  }
}
