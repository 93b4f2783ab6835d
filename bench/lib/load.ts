import { summarize, type Summary } from './stats.js';

/**
 * The load generator (issue 9 §1): `concurrency` closed-loop clients call `fn` back to back, first
 * for a warm-up whose samples are dropped, then for a fixed duration or a fixed count, whichever
 * the scenario names. Each sample is one request's latency; throughput is completed requests over
 * the measured wall time (the tail of in-flight requests included, so nothing is flattered).
 */
export interface LoadOptions {
  concurrency: number;
  warmupMs?: number;
  /** Warm-up by count instead of time. */
  warmupCount?: number;
  durationMs?: number;
  count?: number;
}

export interface LoadResult extends Summary {
  ops: number;
  errors: number;
  firstError: string | undefined;
  seconds: number;
  perSec: number;
  concurrency: number;
}

async function phase(concurrency: number, stop: { ms?: number; count?: number }, fn: (i: number) => Promise<void>, next: () => number, record: boolean) {
  const lat: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let started = 0;
  const end = stop.ms !== undefined ? performance.now() + stop.ms : Infinity;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        if (performance.now() >= end) return;
        if (stop.count !== undefined && started >= stop.count) return;
        started++;
        const t = performance.now();
        try {
          await fn(next());
          if (record) lat.push(performance.now() - t);
        } catch (e) {
          errors++;
          firstError ??= e instanceof Error ? e.message : String(e);
        }
      }
    }),
  );
  return { lat, errors, firstError, seconds: (performance.now() - t0) / 1000 };
}

export async function runLoad(opts: LoadOptions, fn: (i: number) => Promise<void>, seq = { n: 0 }): Promise<LoadResult> {
  const next = () => seq.n++;
  if (opts.warmupCount) await phase(opts.concurrency, { count: opts.warmupCount }, fn, next, false);
  else if (opts.warmupMs) await phase(opts.concurrency, { ms: opts.warmupMs }, fn, next, false);
  const r = await phase(opts.concurrency, { ms: opts.durationMs, count: opts.count }, fn, next, true);
  const s = summarize(r.lat);
  return { ...s, ops: r.lat.length, errors: r.errors, firstError: r.firstError, seconds: r.seconds, perSec: r.lat.length / r.seconds, concurrency: opts.concurrency };
}
