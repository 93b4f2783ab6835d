import { idFromLocation, type WireOp } from './operations.js';
import { isObject } from '../../core/is-object.js';

/** The outcome of one operation, from a BulkResponse, an async status resource or a single request. */
export interface OpResult {
  status: number;
  location?: string | undefined;
  id?: string | undefined;
  scimType?: string | undefined;
  detail?: string | undefined;
}


/** One BulkResponse (or status resource) operation → OpResult; `status` may be "201" or 201. */
export function opResult(raw: unknown): (OpResult & { method?: string; bulkId?: string }) | undefined {
  if (!isObject(raw)) return undefined;
  const status = Number(typeof raw.status === 'object' && isObject(raw.status) ? raw.status.code : raw.status);
  if (!Number.isInteger(status) || status < 100) return undefined;
  const location = typeof raw.location === 'string' ? raw.location : undefined;
  const response = isObject(raw.response) ? raw.response : undefined;
  return {
    status,
    location,
    id: idFromLocation(location) ?? (typeof response?.id === 'string' ? response.id : undefined),
    scimType: typeof response?.scimType === 'string' ? response.scimType : undefined,
    detail: typeof response?.detail === 'string' ? response.detail : undefined,
    method: typeof raw.method === 'string' ? raw.method.toUpperCase() : undefined,
    bulkId: typeof raw.bulkId === 'string' ? raw.bulkId : undefined,
  };
}

/**
 * Pair the operations of a BulkResponse with the request's (RFC 7644 §3.7.3). The server may
 * reorder (RFC 7644 §3.7) and leaves out what it did not process (failOnErrors), so position is
 * not enough: a POST is matched by its bulkId, a PUT or PATCH by method and the id its location
 * names (the client never puts two operations on one resource in one request). Whatever is left
 * pairs up by method in order. `undefined` means "not processed": the outcome is unknown.
 */
export function matchBulkResponse(ops: readonly WireOp[], body: unknown): (OpResult | undefined)[] {
  const raw = isObject(body) && Array.isArray(body.Operations) ? body.Operations : [];
  const results = raw.map(opResult).filter((r): r is NonNullable<typeof r> => r !== undefined);
  const out: (OpResult | undefined)[] = ops.map(() => undefined);
  const used = new Set<number>();
  const byBulkId = new Map<string, number>();
  const byTarget = new Map<string, number>();
  results.forEach((r, k) => {
    if (r.bulkId !== undefined && !byBulkId.has(r.bulkId)) byBulkId.set(r.bulkId, k);
    if (r.method && r.id) byTarget.set(`${r.method} ${r.id}`, k);
  });
  ops.forEach((op, i) => {
    const k = op.bulkId !== undefined ? byBulkId.get(op.bulkId) : byTarget.get(`${op.method} ${idFromLocation(op.path)}`);
    if (k !== undefined && !used.has(k)) {
      used.add(k);
      out[i] = results[k];
    }
  });
  ops.forEach((op, i) => {
    if (out[i]) return;
    const k = results.findIndex((r, j) => !used.has(j) && (r.method === undefined || r.method === op.method) && (op.bulkId === undefined || r.bulkId === undefined));
    if (k >= 0) {
      used.add(k);
      out[i] = results[k];
    }
  });
  return out;
}

/**
 * scimcast's async status resource (docs/async-requests.md): `operations[]` carries each
 * requested operation's result by its `index`, "pending" until known. Returns undefined when the
 * document is not in that shape (another server's Location), so the caller cannot mistake it.
 */
export function statusResults(doc: unknown, count: number): { finished: boolean; results: (OpResult | undefined)[] } | undefined {
  if (!isObject(doc) || !Array.isArray(doc.operations)) return undefined;
  const results: (OpResult | undefined)[] = new Array(count).fill(undefined);
  for (const [pos, raw] of doc.operations.entries()) {
    if (!isObject(raw) || raw.status === 'pending') continue;
    const index = typeof raw.index === 'number' ? raw.index : pos;
    const r = opResult(raw);
    if (r && index >= 0 && index < count) results[index] = r;
  }
  const state = typeof doc.status === 'string' ? doc.status : '';
  const counts = isObject(doc.operationsCount) ? doc.operationsCount : undefined;
  const finished = state === 'completed' || state === 'failed' || (counts !== undefined && counts.pending === 0) || results.every((r) => r !== undefined);
  return { finished, results };
}
