import type { TxnOpRow, TxnRow } from '../storage/index.js';
import type { CallbackState } from '../feeds/callback.js';
import type { OperationRequest } from '../provisioning/operation.js';

/**
 * The status resource at the Location (RFC 9967 §2.5.1.1; its shape is in docs/async-requests.md):
 * progress counts in the shape of the async-SCIM proposals, and per-operation results in
 * bulk-response shape with the jti of the asyncresp kept here and, per stream, the jti of the one
 * that stream got.
 */
export function requestedOps(txn: TxnRow): { method: string; bulkId?: string | undefined }[] {
  // A finished request's body is dropped (txns.finish); its operations are all in txn_ops then.
  if (txn.request === null || typeof txn.request !== 'object') return [];
  if (txn.kind === 'single') return [{ method: String((txn.request as OperationRequest).method ?? '') }];
  const ops = (txn.request as { Operations?: unknown }).Operations;
  if (!Array.isArray(ops)) return [];
  return ops.map((o: { method?: unknown; bulkId?: unknown } | null) => ({
    method: String(o?.method ?? '').toUpperCase(),
    bulkId: typeof o?.bulkId === 'string' ? o.bulkId : undefined,
  }));
}

/** One operation's entry: its recorded result, or `pending` with what the stored request says of it. */
function operationEntry(index: number, o: TxnOpRow | undefined, req: { method: string; bulkId?: string | undefined } | undefined) {
  if (!o) return { index, ...(req?.method ? { method: req.method } : {}), ...(req?.bulkId ? { bulkId: req.bulkId } : {}), status: 'pending' };
  return {
    index,
    method: o.method,
    ...(o.bulkId ? { bulkId: o.bulkId } : {}),
    ...(o.location ? { location: o.location } : {}),
    ...(o.version ? { version: o.version } : {}),
    status: o.status,
    ...(o.response ? { response: o.response } : {}),
    // The SET kept here (Accept: application/secevent+jwt at this Location).
    jti: o.jti,
    // The asyncresp SETs the requester's streams got, once the fan-out has signed them.
    ...(o.sets ? { sets: o.sets } : {}),
  };
}

/** Operations with a result, and how many of them failed (status 400 or more). */
export interface OpCounts {
  done: number;
  failed: number;
}

/** The document without its per-operation entries (the list): progress from the counts alone. */
export function statusSummary(txn: TxnRow, counts: OpCounts, opts: { location: string; callback?: CallbackState | undefined }) {
  const { done, failed } = counts;
  const total = txn.opCount;
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
  // A per-request callback's delivery (a scimcast extension): where it stands, or how it ended
  // with its dead letters. The URL is not repeated: it may carry a token.
  if (opts.callback) doc.callback = opts.callback;
  return doc;
}

export function statusDocument(txn: TxnRow, ops: TxnOpRow[], opts: { withOperations: boolean; location: string; callback?: CallbackState | undefined }) {
  const doc = statusSummary(txn, { done: ops.length, failed: ops.filter((o) => Number(o.status) >= 400).length }, opts);
  if (opts.withOperations) {
    const byIndex = new Map(ops.map((o) => [o.opIndex, o]));
    const requested = requestedOps(txn);
    doc.operations = Array.from({ length: txn.opCount }, (_, index) => operationEntry(index, byIndex.get(index), requested[index]));
  }
  return doc;
}
