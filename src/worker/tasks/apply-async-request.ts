import type { Task } from 'graphile-worker';
import { z } from 'zod';
import { executeTxn } from '../../async/execute.js';
import type { Deps } from '../../deps.js';

/** Payloads may come from older code: validate before use (architecture B3). */
const payload = z.object({ txnId: z.string().min(1) });

/** apply_async_request: run every not-yet-finished operation of one transaction (issue 6 §3). */
export const makeApplyAsyncRequest =
  (d: Deps): Task =>
  async (raw) => {
    const { txnId } = payload.parse(raw);
    await executeTxn(d.async, txnId);
  };
