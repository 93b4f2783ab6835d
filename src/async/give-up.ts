import { ScimError } from '../core/errors.js';
import { parseBulkRequest } from '../scim/messages/bulk.js';
import { parseResourcePathPrefix } from '../scim/resource-types.js';
import { recordResults, type RecordedOp } from './asyncresp.js';
import type { AsyncDeps } from './deps.js';
import { errorResult, type OperationRequest } from '../provisioning/operation.js';

/** What a given-up operation says: the request never got through, and not why (no internals). */
const GAVE_UP = () => new ScimError(500, undefined, 'the request could not be processed and was given up after repeated attempts; it was not applied');

/** The operations of a stored request, as far as they can still be read, for their failure results. */
function requestedOps(kind: string, request: unknown, single: OperationRequest): { index: number; op: Pick<OperationRequest, 'method' | 'type' | 'id' | 'bulkId'> }[] {
  // A stored request may be what made every attempt fail: never trust its shape here.
  if (kind !== 'bulk') return [{ index: 0, op: { method: single?.method ?? 'POST', type: single?.type === 'Group' ? 'Group' : 'User', id: typeof single?.id === 'string' ? single.id : undefined } }];
  try {
    const req = parseBulkRequest(request, { maxOperations: Number.MAX_SAFE_INTEGER });
    return req.operations.map((o) => {
      const ref = parseResourcePathPrefix(o.path);
      return { index: o.index, op: { method: o.method, type: ref?.type ?? 'User', id: ref?.id, bulkId: o.bulkId } };
    });
  } catch {
    return [];
  }
}

/**
 * The job's last attempt failed: the transaction becomes `failed`, and every
 * operation without a result gets a 500 result and its asyncresp SET, so that a client waiting
 * for one completion SET per operation (RFC 9967 §2.5.1.2) is not left waiting forever. Operations that
 * already have a result keep it. The stored request is dropped in the same transaction
 * (txns.finish): it may hold cleartext passwords, and a failed request is never run again.
 */
export async function giveUpTxn(d: AsyncDeps, txnId: string): Promise<void> {
  const txn = await d.storage.txns.get(txnId);
  if (!txn || txn.status === 'completed' || txn.status === 'failed') return;
  const publish = { ...d.publisher, baseUrl: d.baseUrl };
  await d.storage.withTx(async (s) => {
    await s.txns.lock(txn.id);
    const done = await s.txns.doneIndexes(txn.id);
    const single = txn.request as OperationRequest;
    const missing: RecordedOp[] = requestedOps(txn.kind, txn.request, single)
      .filter(({ index }) => !done.has(index))
      .map(({ index, op }) => ({ index, type: op.type, result: errorResult(d.baseUrl, op as OperationRequest, GAVE_UP()) }));
    await recordResults(publish, s, txn, missing);
    await s.txns.finish(txn.id, 'failed', d.clock.now());
  });
}
