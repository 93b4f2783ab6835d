/**
 * When to try again. 429 and 503 say when (RFC 9110 §10.2.3 `Retry-After`, seconds or an
 * HTTP-date; RFC 6585 §4); other transient failures back off exponentially with full jitter, so
 * parallel batches that failed together do not come back together.
 */
export interface RetryPolicy {
  /** Attempts per request or operation, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** The longest Retry-After honoured as given; a longer one is cut to this. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 300_000 });

/** Retry-After → milliseconds from `now`, or undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"): uniform in [0, min(cap, base·2^n)). */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Statuses that mean "the server did not do it, ask again later" (nothing to reconcile). */
export const isThrottle = (status: number): boolean => status === 429 || status === 503;

/** Statuses worth another attempt; for a write the outcome is unknown unless isThrottle. */
export const isTransient = (status: number): boolean => isThrottle(status) || status === 500 || status === 502 || status === 504 || status === 408;
