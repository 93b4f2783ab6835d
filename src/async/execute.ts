import type { TxnRow } from '../storage/index.js';
import type { BulkRun } from '../bulk/run.js';
import { runBulkTxn } from './bulk.js';
import type { AsyncDeps } from './deps.js';
import type { OperationRequest, OperationResult } from '../provisioning/operation.js';
import { runStep } from './step.js';

/** Re-exported for callers that both run a request and name its deps. */

/**
 * What one execution did, for an inline wait=N answer: the single operation's result (undefined
 * when another executor had already recorded it), or the bulk engine's run.
 */
export type TxnRun = { kind: 'single'; result: OperationResult | undefined } | { kind: 'bulk'; run: BulkRun };

/**
 * Admitted and not finished: a finished request has no stored body any more (txns.finish), so
 * another executor did the work.
 */
export const stillToRun = (t: TxnRow | undefined): t is TxnRow => t !== undefined && t.request !== null && t.status !== 'completed' && t.status !== 'failed';

/** The worker's entry point for one transaction; safe to run again after a crash. */
export async function executeTxn(d: AsyncDeps, txnId: string): Promise<TxnRun | undefined> {
  const txn = await d.storage.txns.get(txnId);
  if (!stillToRun(txn)) return undefined;
  if (txn.kind === 'single') {
    // pending → completed in the operation's own commit: a single request has no progress to show.
    return { kind: 'single', result: await runStep(d, txn, 0, txn.request as OperationRequest, { last: true }) };
  }
  if (txn.status === 'pending') await d.storage.txns.start(txn.id, d.clock.now());
  const out: TxnRun = { kind: 'bulk', run: await runBulkTxn(d, txn) };
  await d.storage.txns.finish(txn.id, 'completed', d.clock.now());
  return out;
}
