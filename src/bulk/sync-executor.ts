import { ScimError } from '../core/errors.js';
import { errorResult, runOperation, successResult } from '../provisioning/operation.js';
import type { ProvisioningCtx } from '../provisioning/context.js';
import { createMany } from '../provisioning/create-many.js';
import { passwordsIn, prehash } from '../provisioning/password.js';
import { cyclePasswords, runCycleInTx } from './cycle.js';
import type { BulkExecutor } from './run.js';

/**
 * POST /Bulk without respond-async: each operation commits on its own with its SETs
 * (RFC 7644 §3.7 asks for no atomicity across operations). Each op's events carry `<txn>:<index>`
 * (docs/decisions/0006-bulk-operation-txn.md).
 */
export function makeSyncExecutor(base: ProvisioningCtx, txn: string): BulkExecutor {
  // After a refused batch the engine runs its operations one by one: they take the hashes the
  // batch computed (nothing of it was stored) instead of hashing every password a second time.
  let ctx = base;
  return {
    async run(index, op) {
      try {
        return successResult(op, await runOperation({ ...ctx, txn: { base: txn, index } }, op));
      } catch (e) {
        if (!(e instanceof ScimError)) throw e;
        return errorResult(ctx.baseUrl, op, e);
      }
    },
    async runCycle(members) {
      try {
        const passwords = await prehash(ctx.passwords, cyclePasswords(members));
        const outcomes = await ctx.storage.withTx((s) => runCycleInTx({ ...ctx, passwords, storage: s, txn: { base: txn } }, members));
        return members.map((m, k) => successResult(m.create, outcomes[k]!));
      } catch (e) {
        if (!(e instanceof ScimError)) throw e;
        return members.map((m) => errorResult(ctx.baseUrl, m.create, e));
      }
    },
    async runMany(items) {
      const passwords = await prehash(base.passwords, items.flatMap(({ op }) => passwordsIn(op.method, op.type, op.body)));
      ctx = base;
      try {
        const outcomes = await createMany({ ...base, passwords: passwords.replay() }, items.map(({ index, op }) => ({ type: op.type, body: op.body, txn: { base: txn, index } })));
        return items.map(({ op }, k) => successResult(op, outcomes[k]!));
      } catch (e) {
        if (!(e instanceof ScimError)) throw e;
        ctx = { ...base, passwords };
        return undefined; // nothing was written; the engine retries each operation alone
      }
    },
    async fail(_index, op, e) {
      return errorResult(ctx.baseUrl, { ...op, type: op.type }, e);
    },
  };
}
