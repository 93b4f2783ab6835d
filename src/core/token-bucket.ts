/**
 * Token buckets per key (per-client rate limiting). Each key holds up to `burst`
 * tokens and regains `rate` tokens per second; a request takes one. Pure: time comes in as
 * `now` (milliseconds), so tests step it instead of sleeping.
 */
export interface TokenBucketOptions {
  /** Tokens regained per second (the sustained request rate). */
  readonly rate: number;
  /** Bucket size: requests allowed at once after a quiet spell. */
  readonly burst: number;
  readonly now: () => number;
  /** Keys remembered at most; beyond it the stalest are forgotten (memory stays bounded). */
  readonly maxKeys?: number;
}

export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

export interface TokenBuckets {
  /** Take one token from `key`'s bucket, or say how long until one is there. */
  take(key: string): TakeResult;
  /** The same answer without taking anything. */
  peek(key: string): TakeResult;
  /** Keys currently remembered (for tests). */
  size(): number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function makeTokenBuckets(o: TokenBucketOptions): TokenBuckets {
  if (!(o.rate > 0) || !(o.burst >= 1)) throw new RangeError('token bucket needs rate > 0 and burst >= 1');
  const maxKeys = o.maxKeys ?? 100_000;
  const buckets = new Map<string, Bucket>();

  /** The bucket refilled up to now; a missing bucket is a full one. */
  const current = (key: string, now: number): Bucket => {
    const b = buckets.get(key);
    if (!b) return { tokens: o.burst, at: now };
    // A clock that steps back never mints tokens.
    const elapsed = Math.max(0, now - b.at) / 1000;
    return { tokens: Math.min(o.burst, b.tokens + elapsed * o.rate), at: Math.max(now, b.at) };
  };

  const answer = (b: Bucket): TakeResult =>
    b.tokens >= 1 ? { ok: true } : { ok: false, retryAfterMs: Math.ceil(((1 - b.tokens) / o.rate) * 1000) };

  /** A full bucket carries no state, so it can be dropped; then the oldest go (Map keeps insertion order). */
  const evict = (now: number) => {
    for (const [k] of buckets) if (current(k, now).tokens >= o.burst) buckets.delete(k);
    for (const [k] of buckets) {
      if (buckets.size < maxKeys) break;
      buckets.delete(k);
    }
  };

  return {
    take(key) {
      const now = o.now();
      const b = current(key, now);
      const res = answer(b);
      if (res.ok) b.tokens -= 1;
      buckets.delete(key);
      if (buckets.size >= maxKeys) evict(now);
      buckets.set(key, b);
      return res;
    },
    peek(key) {
      return answer(current(key, o.now()));
    },
    size: () => buckets.size,
  };
}
