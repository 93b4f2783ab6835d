import { desc, max, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { workerHeartbeats } from './schema.js';

export function makeHeartbeatRepo(db: Db) {
  return {
    async beat(workerId: string, at: Date, graphileWorkerIds: string[] = []): Promise<void> {
      await db
        .insert(workerHeartbeats)
        .values({ workerId, seenAt: at, graphileWorkerIds })
        .onConflictDoUpdate({ target: workerHeartbeats.workerId, set: { seenAt: at, graphileWorkerIds } });
    },
    /**
     * Crash recovery: graphile-worker 0.17 keeps a dead worker's jobs locked for hours. Release the
     * locks of workers with no fresh heartbeat, if they were taken more than `staleMs` ago (a worker
     * that just started may not have beaten yet). Returns the worker ids released.
     */
    async releaseDeadWorkers(now: Date, staleMs: number): Promise<string[]> {
      const cutoff = new Date(now.getTime() - staleMs).toISOString();
      const r = await db.execute(sql`
        with alive as (
          select unnest(${workerHeartbeats.graphileWorkerIds}) as id from ${workerHeartbeats} where ${workerHeartbeats.seenAt} > ${cutoff}::timestamptz
        ), dead as (
          select locked_by as id from graphile_worker._private_jobs where locked_by is not null and locked_at < ${cutoff}::timestamptz
          union
          select locked_by from graphile_worker._private_job_queues where locked_by is not null and locked_at < ${cutoff}::timestamptz
          except select id from alive
        )
        select array(select id from dead) as ids, graphile_worker.force_unlock_workers(array(select id from dead)) as unlocked`);
      // One statement: drizzle would expand a JS array parameter into a row, not a text[].
      const ids = ((r.rows[0] as { ids?: string[] } | undefined)?.ids ?? []).filter(Boolean);
      await db.execute(sql`delete from ${workerHeartbeats} where ${workerHeartbeats.seenAt} < ${cutoff}::timestamptz`);
      return ids;
    },
    /**
     * Release the job locks of one worker known to be dead (its process exited: the supervisor saw
     * it), at once rather than after SCIMCAST_WORKER_DEAD_AFTER_MS, and forget its heartbeat.
     * Returns how many graphile-worker ids were released.
     */
    async releaseWorker(workerId: string): Promise<number> {
      const r = await db.execute(sql`
        with gone as (
          delete from ${workerHeartbeats} where ${workerHeartbeats.workerId} = ${workerId} returning ${workerHeartbeats.graphileWorkerIds} as ids
        )
        select coalesce(array_length((select ids from gone), 1), 0) as n, graphile_worker.force_unlock_workers(coalesce((select ids from gone), '{}'::text[])) as unlocked`);
      return Number((r.rows[0] as { n?: number } | undefined)?.n ?? 0);
    },
    /** Every worker with a heartbeat row, most recent first (the operator's health view). */
    async all(): Promise<{ workerId: string; seenAt: Date }[]> {
      return db.select({ workerId: workerHeartbeats.workerId, seenAt: workerHeartbeats.seenAt }).from(workerHeartbeats).orderBy(desc(workerHeartbeats.seenAt));
    },
    async latest(): Promise<Date | undefined> {
      const [r] = await db.select({ at: max(workerHeartbeats.seenAt) }).from(workerHeartbeats);
      return r?.at ?? undefined;
    },
    async forget(workerId: string): Promise<void> {
      await db.delete(workerHeartbeats).where(sql`${workerHeartbeats.workerId} = ${workerId}`);
    },
  };
}
