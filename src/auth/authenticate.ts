import type { Clock } from '../core/clock.js';
import type { Storage } from '../storage/index.js';
import type { JwtVerifier } from './jwt.js';
import { hashToken, looksLikeJwt, newOpaqueToken } from './opaque-token.js';
import { SCOPES, type Principal } from './scopes.js';
import type { TokenCache } from './token-cache.js';

/** What the authenticator needs to keep verified opaque tokens in memory (main.ts wires it). */
export interface OpaqueTokenCaching {
  readonly cache: TokenCache;
  /**
   * True while revocations reach `cache` at once (its LISTEN is in place); starts listening on
   * the first call. While false nothing is cached, so a revocation missed then cannot linger.
   */
  live(): boolean;
}

/**
 * Resolve a bearer token to a principal, or undefined when it is unknown, revoked or invalid.
 * With `caching`, a verified opaque token is answered from memory on later requests: no database
 * round trip. A revocation is seen at once through the revocation feed, and within the cache's
 * TTL when its notification was lost. Scopes are stored with the token and never change, so the
 * cached principal holds the same scopes the row does; the route's scope is checked on every
 * request as before (http/plugins/auth.ts).
 */
export function makeAuthenticator(storage: Storage, jwt: JwtVerifier | undefined, caching?: OpaqueTokenCaching) {
  return async (token: string): Promise<Principal | undefined> => {
    if (jwt && looksLikeJwt(token)) return jwt(token);
    const tokenHash = hashToken(token);
    const live = caching?.live() ?? false;
    const cached = live ? caching!.cache.get(tokenHash) : undefined;
    if (cached) return cached;
    const ticket = caching?.cache.ticket() ?? 0;
    const row = await storage.tokens.findByHash(tokenHash);
    if (!row) return undefined;
    const principal: Principal = { id: `tok:${row.id}`, kind: 'token', scopes: new Set(row.scopes) };
    if (live) caching!.cache.put(ticket, tokenHash, row.id, principal);
    return principal;
  };
}

/** Revoke a token and forget it in this process at once; other processes hear it by NOTIFY. */
export async function revokeToken(storage: Storage, cache: TokenCache | undefined, id: string, at: Date): Promise<boolean> {
  const ok = await storage.tokens.revoke(id, at);
  cache?.drop(id);
  return ok;
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
 * SCIMCAST_BOOTSTRAP_TOKEN is accepted on every start with all scopes; when it is
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
