/**
 * Exponential backoff with full jitter (PUSH-8: retransmit with a delay), capped:
 * delay = random(0, min(cap, base · 2^attempt)). `random` is injected for tests.
 */
export function nextDelayMs(attempt: number, o: { baseMs: number; capMs: number; random: () => number }): number {
  const ceiling = Math.min(o.capMs, o.baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(o.baseMs / 2, Math.floor(o.random() * ceiling));
}
