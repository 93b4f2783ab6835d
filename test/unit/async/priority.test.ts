import { describe, expect, it } from 'vitest';
import { makeGiveWay } from '../../../src/async/give-way.js';
import { jobPriority, PRIORITY_LEVELS } from '../../../src/async/priority.js';

describe('Prefer priority=… as a job priority', () => {
  it('high runs before normal before low (graphile-worker takes the smallest first)', () => {
    expect(jobPriority('high')).toBeLessThan(jobPriority('normal'));
    expect(jobPriority('normal')).toBeLessThan(jobPriority('low'));
    expect(jobPriority('normal')).toBe(0); // a job added without a priority is normal
    expect(PRIORITY_LEVELS).toEqual([jobPriority('high'), jobPriority('normal'), jobPriority('low')]);
  });
});

describe('makeGiveWay', () => {
  it('asks at most once per period and says no in between', async () => {
    let now = 1_000;
    let asked = 0;
    const giveWay = makeGiveWay(async () => (asked++, true), () => now, 100);
    expect(await giveWay()).toBe(true);
    now += 50;
    expect(await giveWay()).toBe(false);
    now += 50;
    expect(await giveWay()).toBe(true);
    expect(asked).toBe(2);
  });
});
