import type { Task } from 'graphile-worker';
import { parseTaskPayload } from '../../async/tasks.js';

/**
 * deliver_push: push once ran as one graphile-worker job per stream. It is now a long-lived loop
 * per stream in every worker process (delivery/push-service.ts), woken by NOTIFY and a sweep, so
 * a job of this name still queued in an existing database has nothing to do: the sweep delivers
 * its stream's SETs. Completing it (rather than leaving no handler) keeps such jobs from failing
 * and being retried for days.
 */
export const makeDeliverPush = (): Task => async (raw) => {
  parseTaskPayload('deliver_push', raw);
};
