import { cyclePasswords, runCycleInTx } from '../bulk/cycle.js';
import { executeBulk, type BulkExecutor, type BulkRun } from '../bulk/run.js';
import { AppError, ScimError } from '../core/errors.js';
import { parseBulkRequest } from '../scim/messages/bulk.js';
import type { ScimErrorBody } from '../core/errors.js';
import type { TxnOpRow, TxnRow } from '../storage/index.js';
import { createMany } from '../provisioning/create-many.js';
import { passwordsIn, prehash } from '../provisioning/password.js';
import { recordResult, recordResults } from './asyncresp.js';
import type { AsyncDeps } from './deps.js';
import { runStep } from './step.js';
import { errorResult, successResult, type OperationResult } from '../provisioning/operation.js';

/** A recorded result, as the engine needs it to resume (ids of created resources, error counts). */
function fromRow(o: TxnOpRow): OperationResult {
  return {
    method: o.method,
    bulkId: o.bulkId ?? undefined,
    location: o.location ?? undefined,
    version: o.version ?? undefined,
    status: o.status,
    response: (o.response as ScimErrorBody | null) ?? undefined,
    resourceId: o.location ? o.location.slice(o.location.lastIndexOf('/') + 1) : undefined,
  };
}

async function recorded(d: AsyncDeps, txnId: string, index: number): Promise<OperationResult> {
  const row = (await d.storage.txns.ops(txnId)).find((o) => o.opIndex === index);
  if (!row) throw new Error(`operation ${index} of ${txnId} has no result`);
  return fromRow(row);
}

/**
 * Creations per transaction on the async path: smaller than the synchronous batch so that the
 * status resource advances in visible steps and a retried job redoes little.
 */
const ASYNC_BATCH = 500;

/** The worker's bulk executor: every result is recorded with its asyncresp SETs, exactly once. */
function asyncExecutor(base: AsyncDeps, txn: TxnRow): BulkExecutor {
  const publish = { ...base.publisher, baseUrl: base.baseUrl };
  const endHereIfAsked = async () => {
    if (base.signal?.aborted) throw new AppError('ERR_WORKER_STOPPING', 'the worker is stopping; the request resumes on the next run');
    if (base.giveWay && (await base.giveWay())) throw new AppError('ERR_GIVING_WAY', 'more urgent requests are waiting; the request resumes after them');
  };
  // After a refused batch, its operations run one by one with the hashes the batch computed.
  let d = base;
  return {
    async run(index, op) {
      await endHereIfAsked();
      return (await runStep(d, txn, index, op)) ?? recorded(d, txn.id, index);
    },
    async runCycle(members) {
      await endHereIfAsked();
      try {
        const passwords = await prehash(d.provisioning.passwords, cyclePasswords(members));
        const done = await d.storage.withTx(async (s) => {
          await s.txns.lock(txn.id);
          // Another executor of this txn (the inline wait=N run or the queued job) got there first.
          if (await s.txns.anyOpDone(txn.id, members.map((m) => m.index))) return undefined;
          const outcomes = await runCycleInTx({ ...d.provisioning, passwords, storage: s, txn: { base: txn.id } }, members);
          const results = members.map((m, k) => successResult(m.create, outcomes[k]!));
          for (const [k, m] of members.entries()) await recordResult(publish, s, txn, m.index, m.create.type, results[k]!);
          return results;
        });
        return done ?? Promise.all(members.map((m) => recorded(d, txn.id, m.index)));
      } catch (e) {
        if (!(e instanceof ScimError)) throw e;
        const results = members.map((m) => errorResult(d.baseUrl, m.create, e));
        await d.storage.withTx(async (s) => {
          await s.txns.lock(txn.id);
          for (const [k, m] of members.entries()) await recordResult(publish, s, txn, m.index, m.create.type, results[k]!);
        });
        return results;
      }
    },
    /**
     * Many creations, their SETs, results and asyncresp SETs in one transaction (batched creations
     * on the async path): all of the batch commits or none of it, so a crash never leaves half. A batch
     * any of whose operations already has a result (a retried job) is declined, and the engine
     * runs each operation alone, skipping the recorded ones.
     */
    batchSize: ASYNC_BATCH,
    async runMany(items) {
      await endHereIfAsked();
      // Hashed before the transaction: 500 passwords are half a minute of scrypt on one core, which
      // must not be half a minute holding the txn's row lock and a pooled connection.
      const passwords = await prehash(base.provisioning.passwords, items.flatMap(({ op }) => passwordsIn(op.method, op.type, op.body)));
      const alone = { ...base, provisioning: { ...base.provisioning, passwords } };
      d = base;
      try {
        const done = await d.storage.withTx(async (s) => {
          await s.txns.lock(txn.id);
          if (await s.txns.anyOpDone(txn.id, items.map((it) => it.index))) return undefined;
          const outcomes = await createMany(
            { ...d.provisioning, passwords: passwords.replay(), storage: s },
            items.map(({ index, op }) => ({ type: op.type, body: op.body, txn: { base: txn.id, index } })),
          );
          const results = items.map(({ op }, k) => successResult(op, outcomes[k]!));
          await recordResults(publish, s, txn, items.map(({ index, op }, k) => ({ index, type: op.type, result: results[k]! })));
          return results;
        });
        if (!done) d = alone;
        return done;
      } catch (e) {
        if (!(e instanceof ScimError)) throw e;
        d = alone;
        return undefined; // nothing was written; the engine runs each operation alone
      }
    },
    async fail(index, op, e) {
      const result = errorResult(d.baseUrl, { ...op }, e);
      const fresh = await d.storage.withTx(async (s) => {
        await s.txns.lock(txn.id);
        return recordResult(publish, s, txn, index, op.type, result);
      });
      return fresh ? result : recorded(d, txn.id, index);
    },
  };
}

/**
 * Run (or resume) an async bulk transaction: the same engine as POST /Bulk; operations skipped
 * after failOnErrors still get a result and an asyncresp: RFC 9967 §2.5.1.2 wants one per
 * requested operation, while RFC 7644 §3.7.3 returns only the processed ones.
 */
export async function runBulkTxn(d: AsyncDeps, txn: TxnRow): Promise<BulkRun> {
  const req = parseBulkRequest(txn.request, { maxOperations: Number.MAX_SAFE_INTEGER });
  const prior = new Map((await d.storage.txns.ops(txn.id)).map((o) => [o.opIndex, fromRow(o)]));
  return executeBulk(req, asyncExecutor(d, txn), { prior, skipped: 'fail' });
}
