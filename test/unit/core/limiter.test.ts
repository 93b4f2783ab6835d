import { describe, expect, it } from 'vitest';
import { makeLimiter } from '../../../src/core/limiter.js';

/** A promise with its resolve handle, to finish work exactly when the test says. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return { done, open };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('limiter: at most N at once, the rest in arrival order', () => {
  it('runs no more than max works at once and starts waiting ones first come, first served', async () => {
    const limit = makeLimiter(2);
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    const all = gates.map((g, i) => limit(async () => (started.push(i), await g.done, i)));
    await tick();
    expect(started).toEqual([0, 1]);
    gates[1]!.open();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    // A newcomer queues behind those already waiting.
    const late = limit(async () => (started.push(99), 99));
    gates[0]!.open();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const g of gates) g.open();
    expect(await Promise.all([...all, late])).toEqual([0, 1, 2, 3, 4, 99]);
    expect(started).toEqual([0, 1, 2, 3, 4, 99]);
  });

  it('a failing work frees its slot and rejects only its own caller', async () => {
    const limit = makeLimiter(1);
    const failed = limit(async () => {
      throw new Error('boom');
    });
    const next = limit(async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('ok');
  });

  it('refuses fewer than one slot', () => {
    expect(() => makeLimiter(0)).toThrow(RangeError);
  });
});
