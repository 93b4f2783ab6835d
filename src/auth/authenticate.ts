import type { Clock } from '../core/clock.js';
import type { Storage } from '../storage/index.js';
import type { JwtVerifier } from './jwt.js';
import { hashToken, looksLikeJwt, newOpaqueToken } from './opaque-token.js';
import { SCOPES, type Principal } from './scopes.js';

/** Resolve a bearer token to a principal, or undefined when it is unknown, revoked or invalid. */
export function makeAuthenticator(storage: Storage, jwt: JwtVerifier | undefined) {
  return async (token: string): Promise<Principal | undefined> => {
    if (jwt && looksLikeJwt(token)) return jwt(token);
    const row = await storage.tokens.findByHash(hashToken(token));
    if (!row) return undefined;
    return { id: `tok:${row.id}`, kind: 'token', scopes: new Set(row.scopes) };
  };
}

export async function createToken(
  storage: Storage,
  clock: Clock,
  opts: { name: string; scopes: readonly string[] },
): Promise<{ id: string; token: string }> {
  const { id, token } = newOpaqueToken();
  await storage.tokens.insert({ id, name: opts.name, tokenHash: hashToken(token), scopes: [...opts.scopes], createdAt: clock.now(), revokedAt: null });
  return { id, token };
}

/**
 * conventions.md: SCIMCAST_BOOTSTRAP_TOKEN is accepted on every start with all scopes; when it is
 * unset and no token exists yet, one admin token is made and returned to be printed once.
 */
export async function ensureBootstrapToken(storage: Storage, clock: Clock, bootstrap: string | undefined): Promise<string | undefined> {
  if (bootstrap) {
    const tokenHash = hashToken(bootstrap);
    if (!(await storage.tokens.findByHash(tokenHash))) {
      await storage.tokens.insert({
        id: `bootstrap-${tokenHash.slice(0, 8)}`,
        name: 'bootstrap (SCIMCAST_BOOTSTRAP_TOKEN)',
        tokenHash,
        scopes: [...SCOPES],
        createdAt: clock.now(),
        revokedAt: null,
      });
    }
    return undefined;
  }
  if ((await storage.tokens.count()) > 0) return undefined;
  const { token } = await createToken(storage, clock, { name: 'initial admin token', scopes: SCOPES });
  return token;
}
