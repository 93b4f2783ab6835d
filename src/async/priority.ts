import type { Priority } from './prefer.js';

/**
 * Prefer priority=… as a graphile-worker job priority: jobs run in ascending priority, then in
 * ascending run_at, so a smaller number runs first and work of one priority stays FIFO.
 */
const JOB_PRIORITY: Readonly<Record<Priority, number>> = { high: -10, normal: 0, low: 10 };

export function jobPriority(p: Priority): number {
  return JOB_PRIORITY[p];
}

/** The Prefer value a stored job priority stands for (the nearest level at or below it). */
export function priorityOf(jobPriorityValue: number): Priority {
  if (jobPriorityValue <= JOB_PRIORITY.high) return 'high';
  if (jobPriorityValue <= JOB_PRIORITY.normal) return 'normal';
  return 'low';
}
