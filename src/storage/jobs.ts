import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './db.js';

export interface EnqueueOptions {
  runAt?: Date | undefined;
  /** Named queue: jobs of one queue run one at a time, in order (per-feed push). */
  queueName?: string | undefined;
  /** At most one pending job per key (graphile-worker job_key, mode replace). */
  jobKey?: string | undefined;
  maxAttempts?: number | undefined;
  /** graphile-worker priority: smaller runs first; default 0. */
  priority?: number | undefined;
  /** 'replace' (default) updates a waiting job; 'preserve_run_at' keeps its scheduled time (a backoff). */
  jobKeyMode?: 'replace' | 'preserve_run_at' | 'unsafe_dedupe' | undefined;
}

/**
 * graphile_worker.add_job on the bound connection: called inside withTx, the job commits or rolls
 * back with the change that asked for it (architecture B3: transactional outbox).
 */
/** The `graphile_worker.add_job(…)` call itself, for a statement that does more than add the job. */
export function addJobCall(identifier: string, payload: unknown, o: EnqueueOptions = {}): SQL {
  return sql`graphile_worker.add_job(
        ${identifier},
        ${JSON.stringify(payload)}::json,
        queue_name => ${o.queueName ?? null}::text,
        run_at => ${o.runAt?.toISOString() ?? null}::timestamptz,
        max_attempts => ${o.maxAttempts ?? null}::int,
        priority => ${o.priority ?? null}::smallint,
        job_key => ${o.jobKey ?? null}::text,
        job_key_mode => ${o.jobKeyMode ?? null}::text
      )`;
}

export function makeJobRepo(db: Db) {
  return {
    async enqueue(identifier: string, payload: unknown, o: EnqueueOptions = {}): Promise<void> {
      await db.execute(sql`select ${addJobCall(identifier, payload, o)}`);
    },
  };
}
