import { badRequest, payloadTooLarge, ScimError, toScimErrorBody, type ScimErrorBody } from '../../core/errors.js';
import { isObject } from '../../core/is-object.js';

export const BULK_REQUEST_URN = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE_URN = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

export type BulkMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One operation of a BulkRequest (RFC 7644 §3.7), validated on its own. */
export interface BulkOperation {
  index: number;
  method: BulkMethod;
  path: string;
  bulkId?: string | undefined;
  version?: string | undefined;
  data?: unknown;
  /** Set when this operation is malformed: it fails alone, the others still run (RFC 7644 §3.7.3). */
  invalid?: ScimError | undefined;
}

export interface BulkRequest {
  failOnErrors: number | undefined;
  operations: BulkOperation[];
}

const METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];

function operation(raw: unknown, index: number): BulkOperation {
  const bad = (detail: string): BulkOperation => ({ index, method: 'POST', path: '', invalid: badRequest('invalidSyntax', `Operations[${index}]: ${detail}`) });
  if (!isObject(raw)) return bad('must be a JSON object');
  const method = typeof raw.method === 'string' ? raw.method.toUpperCase() : undefined;
  if (!method || !METHODS.includes(method)) return bad('method must be POST, PUT, PATCH or DELETE');
  const op: BulkOperation = { index, method: method as BulkMethod, path: '' };
  if (typeof raw.bulkId === 'string') op.bulkId = raw.bulkId;
  else if (raw.bulkId !== undefined) return { ...op, invalid: badRequest('invalidSyntax', `Operations[${index}]: bulkId must be a string`) };
  if (typeof raw.path !== 'string' || raw.path === '') return { ...op, invalid: badRequest('invalidSyntax', `Operations[${index}]: path is required`) };
  op.path = raw.path;
  if (raw.version !== undefined) {
    if (typeof raw.version !== 'string') return { ...op, invalid: badRequest('invalidSyntax', `Operations[${index}]: version must be a string`) };
    op.version = raw.version;
  }
  if (method === 'POST' && !op.bulkId) return { ...op, invalid: badRequest('invalidSyntax', `Operations[${index}]: bulkId is required for POST`) };
  if (method !== 'DELETE') {
    if (raw.data === undefined) return { ...op, invalid: badRequest('invalidSyntax', `Operations[${index}]: data is required for ${method}`) };
    op.data = raw.data;
  }
  return op;
}

/**
 * Parse a BulkRequest (RFC 7644 §3.7). The request as a whole must be well formed (else 400) and
 * within maxOperations (else 413, RFC 7644 §3.7.4); a malformed operation is marked and fails by itself.
 */
export function parseBulkRequest(body: unknown, limits: { maxOperations: number }): BulkRequest {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'The request body must be a BulkRequest JSON object');
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === BULK_REQUEST_URN.toLowerCase())) {
    throw badRequest('invalidSyntax', `schemas must contain ${BULK_REQUEST_URN}`);
  }
  const ops = body.Operations;
  if (!Array.isArray(ops)) throw badRequest('invalidSyntax', 'Operations must be an array');
  if (ops.length > limits.maxOperations) throw payloadTooLarge(`Bulk request has ${ops.length} operations; maxOperations is ${limits.maxOperations}`);
  const foe = body.failOnErrors;
  if (foe !== undefined && (typeof foe !== 'number' || !Number.isSafeInteger(foe) || foe < 1)) throw badRequest('invalidSyntax', 'failOnErrors must be a positive integer');
  const operations = ops.map(operation);
  const seen = new Map<string, number>();
  for (const op of operations) {
    if (op.invalid || op.method !== 'POST' || !op.bulkId) continue;
    const first = seen.get(op.bulkId);
    if (first !== undefined) op.invalid = badRequest('invalidValue', `Operations[${op.index}]: bulkId '${op.bulkId}' is already used by Operations[${first}]`);
    else seen.set(op.bulkId, op.index);
  }
  return { failOnErrors: foe as number | undefined, operations };
}

/** A BulkResponse operation (RFC 7644 §3.7.3): status is a string; response only for failures. */
export interface BulkResponseOperation {
  method: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: ScimErrorBody;
}

export function bulkResponse(ops: BulkResponseOperation[]) {
  return { schemas: [BULK_RESPONSE_URN], Operations: ops };
}

/** One operation's result as the bulk engine records it. */
export interface BulkResult {
  method: string;
  bulkId?: string | undefined;
  location?: string | undefined;
  version?: string | undefined;
  status: string;
  response?: ScimErrorBody | undefined;
}

/** A BulkResponse operation (RFC 7644 §3.7.3): method, bulkId, location, version, status, response. */
function responseOperation(r: BulkResult): BulkResponseOperation {
  const out: BulkResponseOperation = { method: r.method, status: r.status };
  if (r.bulkId !== undefined) out.bulkId = r.bulkId;
  if (r.location) out.location = r.location;
  if (r.version) out.version = r.version;
  if (r.response) out.response = r.response;
  return out;
}

/** One result per processed operation, in request order (RFC 7644 §3.7.3), without the skipped ones. */
export function bulkResponseOf(results: ReadonlyMap<number, BulkResult>, skipped: ReadonlySet<number>) {
  const ops = [...results.entries()]
    .filter(([i]) => !skipped.has(i))
    .sort(([a], [b]) => a - b)
    .map(([, r]) => responseOperation(r));
  return bulkResponse(ops);
}

export { toScimErrorBody };
