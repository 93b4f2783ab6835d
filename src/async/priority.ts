import type { Priority } from './prefer.js';

/**
 * Prefer priority=… as a graphile-worker job priority: jobs run in ascending priority, then in
 * ascending run_at, so a smaller number runs first and work of one priority stays FIFO.
 */
const JOB_PRIORITY: Readonly<Record<Priority, number>> = { high: -10, normal: 0, low: 10 };

/** The job priorities of the levels, most urgent first: what aging moves a waiting job along. */
export const PRIORITY_LEVELS: readonly number[] = [JOB_PRIORITY.high, JOB_PRIORITY.normal, JOB_PRIORITY.low];

export function jobPriority(p: Priority): number {
  return JOB_PRIORITY[p];
}
