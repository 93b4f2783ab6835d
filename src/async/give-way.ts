/**
 * Whether a long-running async request should give its worker slot to more urgent work that is
 * waiting. A bulk asks between two units of work (a batch, an operation); the answer costs a
 * query, so it is asked again only after `everyMs` and the last answer stands meanwhile. The
 * clock is passed in.
 */
export function makeGiveWay(moreUrgentWaiting: () => Promise<boolean>, nowMs: () => number, everyMs: number): () => Promise<boolean> {
  let askedAt = -Infinity;
  return async () => {
    const now = nowMs();
    if (now - askedAt < everyMs) return false;
    askedAt = now;
    return moreUrgentWaiting();
  };
}
