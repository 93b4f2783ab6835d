import { ScimError } from '../core/errors.js';
import { passwordsIn, prehash } from '../provisioning/password.js';
import type { TxnRow } from '../storage/index.js';
import { recordResult } from './asyncresp.js';
import type { AsyncDeps } from './deps.js';
import { errorResult, runOperation, successResult, type OperationRequest, type OperationResult } from '../provisioning/operation.js';

/**
 * Apply operation `index` of a transaction exactly once, also when its job is retried: under the
 * transaction's row lock, skip it if a result exists; otherwise the change, its prov SETs, its
 * result and its asyncresp SETs commit together. A ScimError rolls the change back and is recorded as the result.
 */
export async function runStep(d: AsyncDeps, txn: TxnRow, index: number, op: OperationRequest): Promise<OperationResult | undefined> {
  const ref = txn.kind === 'bulk' ? { base: txn.id, index } : { base: txn.id };
  const publish = { ...d.publisher, baseUrl: d.baseUrl };
  // A password the operation sets is hashed before the transaction takes the txn's row lock (the
  // inline wait=N run and the queued job of this txn would otherwise wait on the hash pool too).
  const passwords = await prehash(d.provisioning.passwords, passwordsIn(op.method, op.type, op.body));
  try {
    return await d.storage.withTx(async (s) => {
      await s.txns.lock(txn.id);
      if (await s.txns.hasOp(txn.id, index)) return undefined;
      const outcome = await runOperation({ ...d.provisioning, passwords, storage: s, txn: ref }, op);
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
