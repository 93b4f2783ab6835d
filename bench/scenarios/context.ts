import type pg from 'pg';
import type { Client } from '../lib/client.js';
import type { LoadOptions } from '../lib/load.js';
import type { Child, Scimcast } from '../lib/processes.js';
import type { Figure, Row, ScalingRow } from '../lib/report.js';

/** What every scenario gets from bench/run.ts. */
export interface Ctx {
  readonly quick: boolean;
  log(msg: string): void;
  readonly scim: Scimcast;
  /** scimcast's own database (embedded PostgreSQL), for seeding and the raw INSERT ceiling. */
  readonly db: pg.Pool;
  readonly peer: (Child & { url: string; client: Client }) | undefined;
  /** Warm-up and measured window of the duration-based scenarios. */
  readonly timed: Pick<LoadOptions, 'warmupMs' | 'durationMs'>;
  /** Users seeded for the read scenarios (100,000; fewer in --quick). */
  readonly population: number;
  /** Operations in the bulk scenarios (10,000). */
  readonly bulkOps: number;
  /** Operations in the peer's bulk: its bulkId pre-scan is quadratic, so it may need fewer. */
  readonly peerBulkOps: number;
  readonly ceilings: { http?: Figure & { name: string }; insert?: Figure & { name: string }; es256?: Figure & { name: string } };
  /** Rates one scenario measures and a later one builds on (stream-cost → push-latency). */
  readonly peaks: { createsWithPush?: number; creates?: number };
  readonly rows: Row[];
  readonly scaling: ScalingRow[];
  /** Anything a scenario wants kept in the JSON file beside its rows. */
  readonly extra: Record<string, unknown>;
}

export const SCIM = '/scim/v2';

/** Run `fn` with the child's peak-RSS window reset before it; returns its result and the peak. */
export async function withRss<T>(child: Child | undefined, fn: () => Promise<T>): Promise<[T, number | undefined]> {
  child?.rss.reset();
  const out = await fn();
  return [out, child?.rss.peakMb()];
}

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
