/**
 * Exponential backoff with full jitter (RFC 8935 §4: retransmit after a delay), capped:
 * delay = random(0, min(cap, base · 2^attempt)). `random` is injected for tests.
 */
export function nextDelayMs(attempt: number, o: { baseMs: number; capMs: number; random: () => number }): number {
  const ceiling = Math.min(o.capMs, o.baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(o.baseMs / 2, Math.floor(o.random() * ceiling));
}

/** The most a receiver's Retry-After can defer a stream: a day (a bogus huge value is not a date). */
export const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * When to try a stream again after a transient failure (RFC 8935 §4): the receiver's Retry-After when
 * it gave one (seconds or HTTP-date, RFC 9110 §10.2.3), else the backoff. `Retry-After: 0` or a
 * date in the past still waits the smallest backoff step, so a receiver that keeps saying "now"
 * does not get a hot loop.
 */
export function retryDelayMs(retryAfterMs: number | undefined, attempt: number, o: { baseMs: number; capMs: number; random: () => number }): number {
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs)) return nextDelayMs(attempt, o);
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(o.baseMs / 2, retryAfterMs));
}
