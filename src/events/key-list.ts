import type { Clock } from '../core/clock.js';
import type { Storage } from '../storage/index.js';

/** Where a signing key stands: `active` signs, `retired` only verifies, `revoked` neither. */
export type KeyState = 'active' | 'retired' | 'revoked';

/**
 * The operator's view of the signing keys, newest first: kid, algorithm, state, times and age.
 * Built from `keys.all()`, which never reads the private JWK, so no key material can reach an
 * answer built here.
 */
export async function signingKeyList(d: { storage: Storage; clock: Clock }) {
  const now = d.clock.now().getTime();
  const rows = await d.storage.keys.all();
  return {
    keys: rows.map((k) => ({
      kid: k.kid,
      alg: k.alg,
      state: (k.revokedAt ? 'revoked' : k.retiredAt ? 'retired' : 'active') as KeyState,
      created_at: k.createdAt.toISOString(),
      retired_at: k.retiredAt?.toISOString() ?? null,
      revoked_at: k.revokedAt?.toISOString() ?? null,
      age_seconds: Math.max(0, Math.round((now - k.createdAt.getTime()) / 1000)),
    })),
  };
}
