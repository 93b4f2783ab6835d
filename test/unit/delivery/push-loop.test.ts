import { describe, expect, it } from 'vitest';
import type { RoundEnd } from '../../../src/delivery/deliver.js';
import { makePushLoops, type Lease, type PushLoopDeps } from '../../../src/delivery/push-loop.js';

/**
 * The push loops' rules, with a scripted lease, rounds and a manual clock: one loop per stream,
 * leases decide who serves, a retry time stands against wakes (RFC 8935 §4: retry with a delay), an idle loop keeps its
 * stream until it has been quiet for a while, and a lost lease stops sending.
 */
function harness(opts: { held?: Set<string>; rounds?: (feedId: string, interrupted: () => boolean) => RoundEnd | Promise<RoundEnd> } = {}) {
  let now = 0;
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  const calls: string[] = [];
  const held = opts.held ?? new Set<string>();
  const mine = new Set<string>();
  let epoch = 0;
  const lease: Lease = {
    async tryAcquire(f) {
      calls.push(`acquire ${f}`);
      if (held.has(f)) return false;
      mine.add(f);
      return true;
    },
    async release(f) {
      calls.push(`release ${f}`);
      mine.delete(f);
    },
    get epoch() {
      return epoch;
    },
  };
  const d: PushLoopDeps = {
    lease,
    round: async (f, interrupted) => {
      calls.push(`round ${f}`);
      return opts.rounds ? opts.rounds(f, interrupted) : { kind: 'drained' };
    },
    now: () => now,
    after: (ms, fn) => {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return () => void (t.live = false);
    },
    idleReleaseMs: 30_000,
    heldElsewhereMs: 2_000,
    errorDelayMs: 2_000,
  };
  const loops = makePushLoops(d);
  const settle = () => new Promise((r) => setTimeout(r, 5));
  return {
    loops,
    calls,
    mine,
    settle,
    loseLeases() {
      epoch++;
      mine.clear();
      loops.leasesLost();
    },
    async advance(ms: number) {
      now += ms;
      for (const t of timers.filter((x) => x.live && x.at <= now)) {
        t.live = false;
        t.fn();
      }
      await settle();
    },
  };
}

describe('push loops', () => {
  it('a wake takes the lease and runs a round; the loop then idles holding the stream, and a later wake runs at once without asking for the lease again', async () => {
    const h = harness();
    h.loops.wake('a', 'notify');
    await h.settle();
    expect(h.calls).toEqual(['acquire a', 'round a']);
    expect(h.loops.serving()).toEqual(['a']);
    await h.advance(10_000);
    h.loops.wake('a', 'notify');
    await h.settle();
    expect(h.calls).toEqual(['acquire a', 'round a', 'round a']);
  });

  it('an idle loop gives its stream up after the idle time', async () => {
    const h = harness();
    h.loops.wake('a', 'notify');
    await h.settle();
    await h.advance(30_000);
    expect(h.calls).toEqual(['acquire a', 'round a', 'release a']);
    expect(h.loops.serving()).toEqual([]);
  });

  it('a stream leased elsewhere is left to its holder: NOTIFYs are not tried again for a while, the sweep still tries', async () => {
    const held = new Set(['a']);
    const h = harness({ held });
    h.loops.wake('a', 'notify');
    await h.settle();
    h.loops.wake('a', 'notify');
    await h.settle();
    expect(h.calls).toEqual(['acquire a']);
    held.clear(); // its holder died
    h.loops.wake('a', 'sweep');
    await h.settle();
    expect(h.calls).toEqual(['acquire a', 'acquire a', 'round a']);
  });

  it('a retry time stands: wakes while it is due do not run a round early (RFC 8935 §4)', async () => {
    let n = 0;
    const h = harness({ rounds: () => (n++ === 0 ? { kind: 'retry', at: new Date(5_000) } : { kind: 'drained' }) });
    h.loops.wake('a', 'notify');
    await h.settle();
    h.loops.wake('a', 'notify');
    h.loops.wake('a', 'sweep');
    await h.advance(4_999);
    expect(h.calls).toEqual(['acquire a', 'round a']);
    await h.advance(1);
    expect(h.calls).toEqual(['acquire a', 'round a', 'round a']);
  });

  it('a wake during a round runs another round (the round may have read the queue before the SET committed)', async () => {
    let release!: () => void;
    let n = 0;
    const h = harness({ rounds: () => (n++ === 0 ? new Promise<RoundEnd>((r) => (release = () => r({ kind: 'drained' }))) : { kind: 'drained' }) });
    h.loops.wake('a', 'notify');
    await h.settle();
    h.loops.wake('a', 'notify');
    release();
    await h.settle();
    expect(h.calls).toEqual(['acquire a', 'round a', 'round a']);
  });

  it('one loop per stream: wakes while the lease is being taken do not start a second one', async () => {
    const h = harness();
    h.loops.wake('a', 'notify');
    h.loops.wake('a', 'notify');
    h.loops.wake('a', 'sweep');
    await h.settle();
    expect(h.calls.filter((c) => c === 'acquire a')).toHaveLength(1);
  });

  it('a lost lease interrupts the round under way and drops idle loops; the stream is taken anew on the next wake', async () => {
    let interrupted: (() => boolean) | undefined;
    let finish!: () => void;
    const h = harness({
      rounds: (f, i) => {
        if (f !== 'busy') return { kind: 'drained' };
        interrupted = i;
        return new Promise<RoundEnd>((r) => (finish = () => r({ kind: 'interrupted' })));
      },
    });
    h.loops.wake('idle', 'notify');
    h.loops.wake('busy', 'notify');
    await h.settle();
    expect(interrupted!()).toBe(false);
    h.loseLeases();
    expect(interrupted!()).toBe(true);
    // The idle loop is gone; the busy one stays until its round returns, so no second loop starts.
    expect(h.loops.serving()).toEqual(['busy']);
    h.loops.wake('busy', 'notify');
    finish();
    await h.settle();
    // The wake that came meanwhile takes the lease anew.
    expect(h.calls.filter((c) => c === 'acquire busy')).toHaveLength(2);
    expect(h.loops.serving().sort()).toEqual(['busy']);
  });

  it('a failed round gives the stream up and rests it here for a while, so another process may serve it', async () => {
    const h = harness({
      rounds: () => {
        throw new Error('database away');
      },
    });
    h.loops.wake('a', 'notify');
    await h.settle();
    expect(h.calls).toEqual(['acquire a', 'round a', 'release a']);
    h.loops.wake('a', 'sweep');
    await h.settle();
    expect(h.calls).toHaveLength(3);
    await h.advance(2_000);
    h.loops.wake('a', 'sweep');
    await h.settle();
    expect(h.calls).toEqual(['acquire a', 'round a', 'release a', 'acquire a', 'round a', 'release a']);
  });

  it('stop waits for the round under way and starts no other', async () => {
    let finish!: () => void;
    const h = harness({ rounds: () => new Promise<RoundEnd>((r) => (finish = () => r({ kind: 'interrupted' }))) });
    h.loops.wake('a', 'notify');
    await h.settle();
    let stopped = false;
    const s = h.loops.stop().then(() => (stopped = true));
    await h.settle();
    expect(stopped).toBe(false);
    finish();
    await s;
    h.loops.wake('b', 'notify');
    await h.settle();
    expect(h.calls).toEqual(['acquire a', 'round a']);
  });
});
