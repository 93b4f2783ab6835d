import type { TxnOpRow, TxnRow } from '../storage/index.js';
import type { OperationRequest } from './operation.js';

/**
 * The status resource at the Location (issue 6 §5, conventions "Async status resource"):
 * progress counts in the shape of the async-SCIM proposals, and per-operation results in
 * bulk-response shape with the jti of each asyncresp.
 */
export function requestedOps(txn: TxnRow): { method: string; bulkId?: string | undefined }[] {
  if (txn.kind === 'single') return [{ method: (txn.request as OperationRequest).method }];
  const ops = ((txn.request as { Operations?: { method?: string; bulkId?: string }[] }).Operations ?? []) as { method?: string; bulkId?: string }[];
  return ops.map((o) => ({ method: String(o.method ?? '').toUpperCase(), bulkId: o.bulkId }));
}

export function statusDocument(txn: TxnRow, ops: TxnOpRow[], opts: { withOperations: boolean; location: string }) {
  const failed = ops.filter((o) => Number(o.status) >= 400).length;
  const total = txn.opCount;
  const done = ops.length;
  const doc: Record<string, unknown> = {
    id: txn.id,
    status: txn.status,
    method: txn.method,
    path: txn.path,
    operationsCount: { total, success: done - failed, failed, pending: total - done },
    percentComplete: total === 0 ? 100 : Math.floor((done * 100) / total),
    created: txn.createdAt.toISOString(),
    lastModified: txn.lastModified.toISOString(),
    meta: { resourceType: 'AsyncRequest', location: opts.location },
  };
  if (opts.withOperations) {
    const byIndex = new Map(ops.map((o) => [o.opIndex, o]));
    doc.operations = requestedOps(txn).map((req, index) => {
      const o = byIndex.get(index);
      if (!o) return { index, method: req.method, ...(req.bulkId ? { bulkId: req.bulkId } : {}), status: 'pending' };
      return {
        index,
        method: o.method,
        ...(o.bulkId ? { bulkId: o.bulkId } : {}),
        ...(o.location ? { location: o.location } : {}),
        ...(o.version ? { version: o.version } : {}),
        status: o.status,
        ...(o.response ? { response: o.response } : {}),
        jti: o.jti,
      };
    });
  }
  return doc;
}
