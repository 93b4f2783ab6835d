import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/scopes.js';
import { makeTokenCache } from '../../../src/auth/token-cache.js';

/** The in-memory cache of verified opaque tokens, with a hand-moved clock. */
const principal = (id: string): Principal => ({ id: `tok:${id}`, kind: 'token', scopes: new Set(['scim:read']) });

function setup(ttlMs = 5_000, maxEntries = 100) {
  let now = 1_000;
  const cache = makeTokenCache({ ttlMs, maxEntries, now: () => now });
  return { cache, advance: (ms: number) => void (now += ms) };
}

describe('token cache', () => {
  it('answers a verified token until its TTL has passed, then no longer', () => {
    const { cache, advance } = setup(5_000);
    cache.put(cache.ticket(), 'h1', 'a', principal('a'));
    advance(4_999);
    expect(cache.get('h1')?.id).toBe('tok:a');
    advance(1);
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('forgets a token at once when it is dropped by id', () => {
    const { cache } = setup();
    cache.put(cache.ticket(), 'h1', 'a', principal('a'));
    cache.put(cache.ticket(), 'h2', 'b', principal('b'));
    cache.drop('a');
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.get('h2')?.id).toBe('tok:b');
  });

  it('does not keep a read that started before a revocation was heard', () => {
    const { cache } = setup();
    const ticket = cache.ticket(); // the database read starts: the row is still valid
    cache.drop('a'); // the revocation's NOTIFY arrives while it runs
    cache.put(ticket, 'h1', 'a', principal('a')); // the read answers "valid"
    expect(cache.get('h1')).toBeUndefined();
    // A read that starts after the drop caches again (a token revoked is not found by it anyway).
    cache.put(cache.ticket(), 'h2', 'b', principal('b'));
    expect(cache.get('h2')).toBeDefined();
  });

  it('clear forgets everything and voids reads in flight', () => {
    const { cache } = setup();
    cache.put(cache.ticket(), 'h1', 'a', principal('a'));
    const ticket = cache.ticket();
    cache.clear();
    cache.put(ticket, 'h2', 'b', principal('b'));
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.get('h2')).toBeUndefined();
  });

  it('holds at most maxEntries, evicting the least recently used', () => {
    const { cache } = setup(5_000, 2);
    cache.put(cache.ticket(), 'h1', 'a', principal('a'));
    cache.put(cache.ticket(), 'h2', 'b', principal('b'));
    cache.get('h1'); // h2 is now the least recently used
    cache.put(cache.ticket(), 'h3', 'c', principal('c'));
    expect(cache.size).toBe(2);
    expect(cache.get('h2')).toBeUndefined();
    expect(cache.get('h1')).toBeDefined();
    expect(cache.get('h3')).toBeDefined();
    // An evicted entry leaves no id behind that a later drop would trip over.
    cache.drop('b');
    expect(cache.size).toBe(2);
  });

  it('keeps nothing when the TTL is 0', () => {
    const { cache } = setup(0);
    cache.put(cache.ticket(), 'h1', 'a', principal('a'));
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
