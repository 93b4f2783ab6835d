import { ScimError } from '../core/errors.js';
import { createMany } from '../provisioning/create-many.js';
import type { OperationRequest } from '../provisioning/operation.js';
import { successResult } from '../provisioning/operation.js';
import { passwordsIn, prehash } from '../provisioning/password.js';
import type { TxnRow } from '../storage/index.js';
import { recordSinglesDone } from './asyncresp.js';
import type { AsyncDeps } from './deps.js';
import { executeTxn, stillToRun } from './execute.js';

/**
 * Apply single creations admitted together (one batch job, async/accept.ts), in admission order.
 *
 * They are created in one transaction with multi-row statements (provisioning/create-many.ts),
 * each with its result, its asyncresp SET and its request's end: one commit for all, as a bulk's
 * batch of creations. A bulk's batch is all or nothing, and so is this one: when any creation
 * fails (a schema error, a userName taken, also by another request of the batch) nothing of it is
 * written, and every request runs alone as it would have without the batch (async/execute.ts),
 * so each failure is its own request's and no other's. A request another executor already
 * started or finished also runs alone, which skips what it finds recorded.
 *
 * Returns each request's outcome in the order of `txnIds`: a rejection is that request's failure
 * to run (the job retries it alone: graphile-worker's batch jobs keep only the failed entries).
 */
export async function applyTogether(d: AsyncDeps, txnIds: readonly string[]): Promise<PromiseSettledResult<unknown>[]> {
  const byId = new Map((await d.storage.txns.getMany(txnIds)).map((t) => [t.id, t]));
  const rows = txnIds.map((id) => byId.get(id)).filter(stillToRun);
  const creations = rows.filter((t) => t.kind === 'single' && (t.request as OperationRequest).method === 'POST');
  let alone = d;
  if (creations.length > 1) {
    const ops = creations.map((t) => t.request as OperationRequest);
    // Hashed before the transaction, and handed out again to the requests that run alone.
    const passwords = await prehash(d.provisioning.passwords, ops.flatMap((op) => passwordsIn(op.method, op.type, op.body)));
    alone = { ...d, provisioning: { ...d.provisioning, passwords: passwords.replay() } };
    if (await createdTogether(d, creations, ops, passwords.replay())) {
      const done = new Set(creations.map((t) => t.id));
      return settle(txnIds, (id) => (done.has(id) ? Promise.resolve() : executeTxn(alone, id)));
    }
  }
  return settle(txnIds, (id) => executeTxn(alone, id));
}

/** True when every one of `txns` was created and recorded, false when none was (see applyTogether). */
async function createdTogether(d: AsyncDeps, txns: readonly TxnRow[], ops: readonly OperationRequest[], passwords: AsyncDeps['provisioning']['passwords']): Promise<boolean> {
  const publish = { ...d.publisher, baseUrl: d.baseUrl };
  try {
    return await d.storage.withTx(async (s) => {
      if (!(await s.txns.lockAllPending(txns.map((t) => t.id)))) return false;
      const outcomes = await createMany(
        { ...d.provisioning, passwords, storage: s },
        ops.map((op, k) => ({ type: op.type, body: op.body, txn: { base: txns[k]!.id } })),
      );
      await recordSinglesDone(
        publish,
        s,
        txns.map((txn, k) => ({ txn, type: ops[k]!.type, result: successResult(ops[k]!, outcomes[k]!) })),
      );
      return true;
    });
  } catch (e) {
    if (e instanceof ScimError) return false; // nothing was written; each runs alone
    throw e;
  }
}

/** One at a time, in order: the requests of a batch were admitted in this order. */
async function settle(ids: readonly string[], run: (id: string) => Promise<unknown>): Promise<PromiseSettledResult<unknown>[]> {
  const out: PromiseSettledResult<unknown>[] = [];
  for (const id of ids) {
    try {
      out.push({ status: 'fulfilled', value: await run(id) });
    } catch (reason) {
      out.push({ status: 'rejected', reason });
    }
  }
  return out;
}
