import type { Principal } from './scopes.js';

/**
 * Verified opaque tokens kept in memory, so a client's next request costs no database round trip.
 *
 * Keyed by the token's SHA-256 (as stored in api_tokens), never by the token: a heap dump shows no
 * usable secret. Bounded: the least recently used entry goes first once `maxEntries` is reached,
 * so a flood of distinct valid tokens cannot grow memory. Each entry lives `ttlMs` at most: that is
 * the bound on a revocation this process was not told about (its LISTEN connection was silently
 * lost, or a row was changed by hand in SQL); revocations it is told about are dropped at once.
 *
 * Only tokens found valid are kept. An unknown or revoked token is looked up every time: caching
 * "no such token" would make a token created a moment later on another process fail here until
 * the entry expired, and nothing announces creations. Bad tokens cost what they cost before.
 *
 * `now` is a monotonic millisecond clock, passed in: a wall clock stepped back would lengthen the
 * bound.
 */
export interface TokenCache {
  /** The principal of a token verified less than `ttlMs` ago and not dropped since. */
  get(tokenHash: string): Principal | undefined;
  /**
   * Taken before reading the database. `put` with a ticket older than the last drop or clear is
   * ignored: a read that started before a revocation committed may return the row still valid,
   * and its answer arrives after the notification, so caching it would resurrect the token.
   */
  ticket(): number;
  put(ticket: number, tokenHash: string, tokenId: string, principal: Principal): void;
  /** Forget the token with this id (its row id, as revocation names it). */
  drop(tokenId: string): void;
  /** Forget everything, e.g. when notifications may have been missed. */
  clear(): void;
  readonly size: number;
}

interface Entry {
  readonly tokenId: string;
  readonly principal: Principal;
  readonly expiresAt: number;
}

export function makeTokenCache(opts: { ttlMs: number; maxEntries: number; now: () => number }): TokenCache {
  // A Map iterates in insertion order: re-inserting on each hit makes the first key the least
  // recently used one.
  const byHash = new Map<string, Entry>();
  // Revocation names the row id, not the hash; a token id has one hash, so one entry at most.
  const hashById = new Map<string, string>();
  let generation = 0;

  const remove = (tokenHash: string) => {
    const e = byHash.get(tokenHash);
    if (!e) return;
    byHash.delete(tokenHash);
    hashById.delete(e.tokenId);
  };

  return {
    get(tokenHash) {
      const e = byHash.get(tokenHash);
      if (!e) return undefined;
      if (opts.now() >= e.expiresAt) {
        remove(tokenHash);
        return undefined;
      }
      byHash.delete(tokenHash);
      byHash.set(tokenHash, e);
      return e.principal;
    },
    ticket: () => generation,
    put(ticket, tokenHash, tokenId, principal) {
      if (opts.ttlMs <= 0 || opts.maxEntries <= 0 || ticket !== generation) return;
      remove(tokenHash);
      const old = hashById.get(tokenId);
      if (old !== undefined) remove(old);
      byHash.set(tokenHash, { tokenId, principal, expiresAt: opts.now() + opts.ttlMs });
      hashById.set(tokenId, tokenHash);
      while (byHash.size > opts.maxEntries) remove(byHash.keys().next().value!);
    },
    drop(tokenId) {
      generation++;
      const h = hashById.get(tokenId);
      if (h !== undefined) remove(h);
    },
    clear() {
      generation++;
      byHash.clear();
      hashById.clear();
    },
    get size() {
      return byHash.size;
    },
  };
}
