import type { Task } from 'graphile-worker';
import { z } from 'zod';
import { executeTxn } from '../../async/execute.js';
import { giveUpTxn } from '../../async/give-up.js';
import { AppError } from '../../core/errors.js';
import type { Deps } from '../../deps.js';

/** Payloads may come from older code: validate before use (architecture B3). */
const payload = z.object({ txnId: z.string().min(1) });

/**
 * apply_async_request: run every not-yet-finished operation of one transaction (issue 6 §3).
 * A failure is retried by graphile-worker with backoff; on the last attempt the request is
 * given up as `failed` (issue 6 §5) before the error is reported.
 */
export const makeApplyAsyncRequest =
  (d: Deps): Task =>
  async (raw, helpers) => {
    const { txnId } = payload.parse(raw);
    try {
      await executeTxn({ ...d.async, signal: helpers.abortSignal }, txnId);
    } catch (e) {
      // A stop is not a failure of the request: it is never given up for it.
      const stopping = e instanceof AppError && e.code === 'ERR_WORKER_STOPPING';
      if (!stopping && helpers.job.attempts >= helpers.job.max_attempts) await giveUpTxn(d.async, txnId);
      throw e;
    }
  };
