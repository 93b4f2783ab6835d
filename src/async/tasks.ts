import { z } from 'zod';

/**
 * The graphile-worker tasks and their payloads: the contract between whoever queues a job (the
 * async admission, in the same statement as its request; a job queued again by the worker) and
 * the task that runs it (worker/tasks/). A payload is stored as JSON and may have been written by
 * an older version, so each task parses it with its schema here before use.
 */
export const TASK_PAYLOADS = {
  /**
   * Run the operations of one admitted `Prefer: respond-async` request (txns.id), or a list of
   * single creations admitted together, applied together (a graphile-worker batch job: async/apply-together.ts).
   */
  apply_async_request: z.union([z.object({ txnId: z.string().min(1) }), z.array(z.object({ txnId: z.string().min(1) })).min(1)]),
  /**
   * Left from when push ran as one job per stream; such a job still queued has nothing to do
   * (worker/tasks/deliver-push.ts), whatever it carries.
   */
  deliver_push: z.unknown(),
  /**
   * The hourly retention run, queued by graphile-worker's crontab (it adds `_cron`); it reads
   * nothing from its payload, and a run by hand may have none.
   */
  prune: z.record(z.string(), z.unknown()).optional(),
} as const;

export type TaskName = keyof typeof TASK_PAYLOADS;
export type TaskPayload<T extends TaskName> = z.input<(typeof TASK_PAYLOADS)[T]>;

export const APPLY_TASK = 'apply_async_request' satisfies TaskName;

/**
 * The typed enqueue for a statement that queues jobs with other rows (storage's insertWithJobs):
 * a job's identifier and payload, checked against the table at compile time. The worker's own
 * helpers.addJob is typed by the same table (worker/task-payloads.ts).
 */
export function taskJob<T extends TaskName>(identifier: T, payload: TaskPayload<T>): { identifier: T; payload: TaskPayload<T> } {
  return { identifier, payload };
}

/** A stored payload, checked against its task's schema (a ZodError when it does not fit). */
export function parseTaskPayload<T extends TaskName>(identifier: T, raw: unknown): z.output<(typeof TASK_PAYLOADS)[T]> {
  return TASK_PAYLOADS[identifier].parse(raw) as z.output<(typeof TASK_PAYLOADS)[T]>;
}
