import { ScimError } from '../core/errors.js';
import { passwordsIn, prehash } from '../provisioning/password.js';
import type { Storage, TxnRow } from '../storage/index.js';
import { recordResult } from './asyncresp.js';
import type { AsyncDeps } from './deps.js';
import { errorResult, runOperation, successResult, type OperationRequest, type OperationResult } from '../provisioning/operation.js';

/**
 * Apply operation `index` of a transaction exactly once, also when its job is retried: under the
 * transaction's row lock, skip it if a result exists; otherwise the change, its prov SETs, its
 * result and its asyncresp SETs commit together. A ScimError rolls the change back and is recorded as the result.
 */
export async function runStep(d: AsyncDeps, txn: TxnRow, index: number, op: OperationRequest, opts: { last?: boolean } = {}): Promise<OperationResult | undefined> {
  const ref = txn.kind === 'bulk' ? { base: txn.id, index } : { base: txn.id };
  const publish = { ...d.publisher, baseUrl: d.baseUrl };
  // A password the operation sets is hashed before the transaction takes the txn's row lock (the
  // inline wait=N run and the queued job of this txn would otherwise wait on the hash pool too).
  const passwords = await prehash(d.provisioning.passwords, passwordsIn(op.method, op.type, op.body));
  // The last operation's commit also ends the request (txns.finish): one commit less per single
  // request, and no moment at which its result exists while its status still says pending.
  const end = async (s: Storage) => {
    if (opts.last) await s.txns.finish(txn.id, 'completed', d.clock.now());
  };
  try {
    return await d.storage.withTx(async (s) => {
      if (await s.txns.lockHasOp(txn.id, index)) {
        await end(s);
        return undefined;
      }
      const outcome = await runOperation({ ...d.provisioning, passwords, storage: s, txn: ref }, op);
      const result = successResult(op, outcome);
      await recordResult(publish, s, txn, index, op.type, result);
      await end(s);
      return result;
    });
  } catch (e) {
    if (!(e instanceof ScimError)) throw e; // infrastructure failure: the job retries
    const result = errorResult(d.baseUrl, op, e);
    return d.storage.withTx(async (s) => {
      await s.txns.lock(txn.id);
      const recorded = await recordResult(publish, s, txn, index, op.type, result);
      await end(s);
      return recorded ? result : undefined;
    });
  }
}
