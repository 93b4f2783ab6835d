import { ScimError, toScimErrorBody } from '../core/errors.js';
import { resourceLocation, type ResourceTypeName } from '../scim/resource-types.js';
import type { ProvisioningCtx } from './context.js';
import type { Outcome } from './outcome.js';
import type { BulkResult } from '../scim/messages/bulk.js';
import { patchResource } from './patch.js';
import { createResource, deleteResource, replaceResource } from './write.js';

/** One requested SCIM operation, as stored with its transaction and replayed by the worker. */
export interface OperationRequest {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  type: ResourceTypeName;
  id?: string | undefined;
  body?: unknown;
  ifMatch?: string | undefined;
  bulkId?: string | undefined;
}

/** An operation's result in RFC 7644 §3.7.3 bulk-response-operation shape, as asyncresp carries it. */
export interface OperationResult extends BulkResult {
  /** The resource, for a synchronous answer (wait=N) and sub_id; not part of the asyncresp. */
  resourceId?: string | undefined;
  outcome?: Outcome | undefined;
}

/** The provisioning code path the synchronous routes use: an async request answers as a synchronous one would. */
export async function runOperation(ctx: ProvisioningCtx, op: OperationRequest): Promise<Outcome> {
  switch (op.method) {
    case 'POST':
      return createResource(ctx, op.type, op.body);
    case 'PUT':
      return replaceResource(ctx, op.type, op.id!, op.body, { ifMatch: op.ifMatch });
    case 'DELETE':
      return deleteResource(ctx, op.type, op.id!, { ifMatch: op.ifMatch });
    case 'PATCH':
      return patchResource(ctx, op.type, op.id!, op.body, { ifMatch: op.ifMatch });
  }
}

export function successResult(op: OperationRequest, o: Outcome): OperationResult {
  return {
    method: op.method,
    bulkId: op.bulkId,
    location: o.location,
    version: o.version,
    status: String(o.status),
    resourceId: o.id,
    outcome: o,
  };
}

/** A failed operation: RFC 7644 §3.7.3 — no location for a failed POST; `response` is the error. */
export function errorResult(baseUrl: string, op: OperationRequest, e: ScimError): OperationResult {
  return {
    method: op.method,
    bulkId: op.bulkId,
    location: op.method !== 'POST' && op.id ? resourceLocation(baseUrl, op.type, op.id) : undefined,
    status: String(e.status),
    response: toScimErrorBody(e),
    resourceId: op.method !== 'POST' ? op.id : undefined,
  };
}
