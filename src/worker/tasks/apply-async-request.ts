import type { Task } from 'graphile-worker';
import { applyTogether } from '../../async/apply-together.js';
import { executeTxn } from '../../async/execute.js';
import { giveUpTxn } from '../../async/give-up.js';
import { makeGiveWay } from '../../async/give-way.js';
import { APPLY_TASK, parseTaskPayload } from '../../async/tasks.js';
import { AppError } from '../../core/errors.js';
import type { Deps } from '../../deps.js';

/** How often a running bulk asks whether more urgent requests wait for its slot: a query each time. */
const GIVE_WAY_CHECK_MS = 100;

const isCode = (e: unknown, code: string) => e instanceof AppError && e.code === code;

/** A batch entry's failure, handed to graphile-worker, which settles the list after the task returns. */
const failed = (reason: unknown): Promise<never> => {
  const p = Promise.reject(reason instanceof Error ? reason : new Error(String(reason)));
  p.catch(() => {}); // handled by graphile-worker's allSettled, not unhandled meanwhile
  return p;
};

/**
 * apply_async_request: run every not-yet-finished operation of one transaction. A failure is
 * retried by graphile-worker with backoff; on the last attempt the request is given up as `failed`
 * before the error is reported.
 *
 * Prefer priority=… is the job's priority, and graphile-worker takes the most urgent due job
 * first. A bulk holds its slot for minutes, so between two units of work it gives way when a more
 * urgent job waits: it ends, and a job for the rest is queued with the same priority and run_at,
 * which keeps its place ahead of work of its own priority admitted after it (FIFO per priority).
 * Each executor skips what is already recorded, so the rest starts where this run ended.
 */
export const makeApplyAsyncRequest =
  (d: Deps): Task =>
  async (raw, helpers) => {
    const payload = parseTaskPayload(APPLY_TASK, raw);
    const { job } = helpers;
    // A stop is not a failure of the request: it is never given up for it.
    const givesUp = (e: unknown) => job.attempts >= job.max_attempts && !isCode(e, 'ERR_WORKER_STOPPING');
    if (Array.isArray(payload)) {
      // Single creations admitted together (async/accept.ts): one outcome per entry. graphile-worker
      // retries the job with only its failed entries; on the last attempt each of those is given up.
      const outcomes = await applyTogether({ ...d.async, signal: helpers.abortSignal }, payload.map((p) => p.txnId));
      for (const [k, o] of outcomes.entries()) if (o.status === 'rejected' && givesUp(o.reason)) await giveUpTxn(d.async, payload[k]!.txnId);
      return outcomes.map((o) => (o.status === 'fulfilled' ? Promise.resolve() : failed(o.reason)));
    }
    const { txnId } = payload;
    const giveWay = makeGiveWay(() => d.storage.jobs.moreUrgentWaiting(APPLY_TASK, job.priority), () => d.clock.now().getTime(), GIVE_WAY_CHECK_MS);
    try {
      await executeTxn({ ...d.async, signal: helpers.abortSignal, giveWay }, txnId);
    } catch (e) {
      if (isCode(e, 'ERR_GIVING_WAY')) {
        await helpers.addJob(APPLY_TASK, { txnId }, { priority: job.priority, runAt: job.run_at, maxAttempts: job.max_attempts });
        return;
      }
      if (givesUp(e)) await giveUpTxn(d.async, txnId);
      throw e;
    }
  };
