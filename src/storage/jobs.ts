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
 * back with the change that asked for it (a transactional outbox: no job without its change, and
 * no change without its job).
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

/**
 * A job that could run now: not locked, due, and with attempts left. Read through the
 * `graphile_worker.jobs` view, graphile-worker's public window on its queue.
 */
const waiting = (identifier: string) =>
  sql`task_identifier = ${identifier} and locked_at is null and run_at <= now() and attempts < max_attempts`;

export function makeJobRepo(db: Db) {
  return {
    async enqueue(identifier: string, payload: unknown, o: EnqueueOptions = {}): Promise<void> {
      await db.execute(sql`select ${addJobCall(identifier, payload, o)}`);
    },
    /** Is a job of this task with a smaller (more urgent) priority waiting for a free slot? */
    async moreUrgentWaiting(identifier: string, priority: number): Promise<boolean> {
      const r = await db.execute<{ found: boolean }>(
        sql`select exists(select 1 from graphile_worker.jobs where ${waiting(identifier)} and priority < ${priority}) as found`,
      );
      return r.rows[0]?.found === true;
    },
    /**
     * Move the jobs of this task that have waited `olderThanMs` at their level up one level of
     * `levels` (ascending job priorities, most urgent first); returns how many moved.
     * `greatest(run_at, updated_at)` is when the job last became due or changed level, so each
     * level is waited once. Through graphile_worker.reschedule_jobs, its public API: a locked
     * (running) job is never touched. The most urgent levels go first, so no job climbs twice in
     * one call.
     */
    async promoteWaiting(identifier: string, levels: readonly number[], olderThanMs: number): Promise<number> {
      let moved = 0;
      for (let k = 1; k < levels.length; k++) {
        const r = await db.execute<{ n: number }>(
          sql`select count(*)::int as n from graphile_worker.reschedule_jobs(
                array(select id from graphile_worker.jobs
                      where ${waiting(identifier)} and priority > ${levels[k - 1]!} and priority <= ${levels[k]!}
                        and greatest(run_at, updated_at) < now() - make_interval(secs => ${olderThanMs / 1000})),
                priority => ${levels[k - 1]!}::int)`,
        );
        moved += r.rows[0]?.n ?? 0;
      }
      return moved;
    },
  };
}
