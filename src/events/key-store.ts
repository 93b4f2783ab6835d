import type { Clock } from '../core/clock.js';
import type { Storage } from '../storage/index.js';
import { generateSigningKey, publicJwks, type SigningAlg } from './keys.js';
import type { SignerKey } from './sign.js';

const kidFor = (now: Date, alg: string, rand: string) => `${alg.toLowerCase()}-${now.toISOString().slice(0, 10)}-${rand}`;

/** On first start there is no key: make one (issue 5 §5). Safe when replicas race (insertIfNone). */
export async function ensureSigningKey(storage: Storage, clock: Clock, rand: () => string, alg: SigningAlg = 'ES256'): Promise<void> {
  if (await storage.keys.current()) return;
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
 * The current signer, cached briefly so signing does not read the key table per SET;
 * a rotation reaches every replica within `ttlMs`. The table is read through `storage`, the
 * signing transaction (see SetSigner), never through a second pooled connection.
 */
export function currentKeyLoader(clock: Clock, ttlMs = 10_000): (storage: Storage) => Promise<SignerKey> {
  let cached: { key: SignerKey; at: number } | undefined;
  return async (storage) => {
    const now = clock.now().getTime();
    if (cached && now - cached.at < ttlMs) return cached.key;
    const row = await storage.keys.current();
    if (!row) throw new Error('no signing key: ensureSigningKey() runs at start');
    cached = { key: { kid: row.kid, alg: row.alg, privateJwk: row.privateJwk as SignerKey['privateJwk'] }, at: now };
    return cached.key;
  };
}

/** GET /jwks.json: every key still in the table, public members only. */
export async function jwksDocument(storage: Storage) {
  return publicJwks(await storage.keys.all());
}
