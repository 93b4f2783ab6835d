import { sleep, summarize, type Summary } from './stats.js';

/**
 * The load generator: `concurrency` closed-loop clients call `fn` back to back, first
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

/**
 * The open-loop generator: request `i` is sent at `start + i / ratePerSec`, whether or not the
 * earlier ones were answered, as independent users of an IdP arrive. A slow server therefore
 * meets a growing queue instead of a slower client (no coordinated omission), and each sample is
 * measured from the request's scheduled time, so time spent queued in the generator counts.
 */
export interface OpenLoopResult extends Summary {
  ops: number;
  errors: number;
  firstError: string | undefined;
  seconds: number;
  /** Requests answered per second of the window (the tail after the last send included). */
  perSec: number;
  ratePerSec: number;
}

export async function runOpenLoop(opts: { ratePerSec: number; durationMs: number }, fn: (i: number) => Promise<void>, seq = { n: 0 }): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.round((opts.ratePerSec * opts.durationMs) / 1000));
  const lat: number[] = [];
  const inflight: Promise<void>[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  for (let k = 0; k < total; ) {
    const now = performance.now();
    // Everything due by now goes out together: timers fire late by a millisecond or more.
    while (k < total && t0 + (k * 1000) / opts.ratePerSec <= now) {
      const due = t0 + (k * 1000) / opts.ratePerSec;
      inflight.push(
        fn(seq.n++).then(
          () => void lat.push(performance.now() - due),
          (e: unknown) => {
            errors++;
            firstError ??= e instanceof Error ? e.message : String(e);
          },
        ),
      );
      k++;
    }
    if (k < total) await sleep(Math.max(0, t0 + (k * 1000) / opts.ratePerSec - performance.now()));
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - t0) / 1000;
  return { ...summarize(lat), ops: lat.length, errors, firstError, seconds, perSec: lat.length / seconds, ratePerSec: opts.ratePerSec };
}
