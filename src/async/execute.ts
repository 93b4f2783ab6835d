import type { Clock } from '../core/clock.js';
import type { Ids } from '../core/ids.js';
import { ScimError } from '../core/errors.js';
import type { PublisherDeps } from '../feeds/publish.js';
import type { ProvisioningCtx } from '../provisioning/context.js';
import type { Storage, TxnRow } from '../storage/index.js';
import { recordResult } from './asyncresp.js';
import { errorResult, runOperation, successResult, type OperationRequest, type OperationResult, type PatchRunner } from './operation.js';

export interface AsyncDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly baseUrl: string;
  readonly provisioning: ProvisioningCtx;
  readonly publisher: PublisherDeps;
  readonly patch?: PatchRunner | undefined;
  readonly retentionMs: number;
}

/**
 * Apply operation `index` of a transaction exactly once (issue 6 §3): under the transaction's row
 * lock, skip it if a result exists; otherwise the change, its prov SETs, its result and its
 * asyncresp SETs commit together. A ScimError rolls the change back and is recorded as the result.
 */
export async function runStep(d: AsyncDeps, txn: TxnRow, index: number, op: OperationRequest): Promise<OperationResult | undefined> {
  const ref = txn.kind === 'bulk' ? { base: txn.id, index } : { base: txn.id };
  const publish = { ...d.publisher, baseUrl: d.baseUrl };
  try {
    return await d.storage.withTx(async (s) => {
      await s.txns.lock(txn.id);
      if ((await s.txns.doneIndexes(txn.id)).has(index)) return undefined;
      const outcome = await runOperation({ ...d.provisioning, storage: s, txn: ref }, op, d.patch);
      const result = successResult(op, outcome);
      await recordResult(publish, s, txn, index, op.type, result);
      return result;
    });
  } catch (e) {
    if (!(e instanceof ScimError)) throw e; // infrastructure failure: the job retries
    const result = errorResult(d.baseUrl, op, e);
    return d.storage.withTx(async (s) => {
      await s.txns.lock(txn.id);
      return (await recordResult(publish, s, txn, index, op.type, result)) ? result : undefined;
    });
  }
}

/** The worker's entry point for one transaction; safe to run again after a crash. */
export async function executeTxn(d: AsyncDeps, txnId: string, runBulk?: (d: AsyncDeps, txn: TxnRow) => Promise<void>): Promise<OperationResult | undefined> {
  const txn = await d.storage.txns.get(txnId);
  if (!txn || txn.status === 'completed') return undefined;
  if (txn.status === 'pending') await d.storage.txns.setStatus(txn.id, 'running', d.clock.now());
  let result: OperationResult | undefined;
  if (txn.kind === 'bulk') {
    if (!runBulk) throw new Error('bulk transactions need the bulk engine');
    await runBulk(d, txn);
  } else {
    result = await runStep(d, txn, 0, txn.request as OperationRequest);
  }
  await d.storage.txns.setStatus(txn.id, 'completed', d.clock.now());
  return result;
}
