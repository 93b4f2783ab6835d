/**
 * At most `max` calls of the wrapped work run at once; the others wait in arrival order (FIFO),
 * so a caller that queues work late still gets its turn after those already waiting, never after
 * everything submitted since. Pure: no timers, no I/O.
 */
export type Limiter = <T>(work: () => Promise<T>) => Promise<T>;

export function makeLimiter(max: number): Limiter {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`a limiter needs at least one slot, got ${max}`);
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running < max) running++;
    else await new Promise<void>((r) => waiting.push(r));
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so `running` never dips and lets a newcomer jump the queue.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
