import type { ResourceTypeName } from '../scim/resource-types.js';
import type { ScimResource } from './representation.js';

/** One resource change, as the events module needs it (RFC 9967 §2.4: prov:* events). */
export interface Change {
  readonly kind: 'create' | 'put' | 'patch' | 'delete';
  readonly type: ResourceTypeName;
  readonly id: string;
  readonly before: ScimResource | undefined;
  readonly after: ScimResource | undefined;
  /** The PatchOp message, not the patched resource, for prov:patch:full (RFC 9967 §2.4.2). */
  readonly patchOp?: unknown;
  /** Attribute paths that changed, for :notice events (RFC 9967 §2.2, RFC 7644 path syntax). */
  readonly attributes: readonly string[];
}

/** The result of one provisioning operation: what a sync response, a bulk response op and an asyncresp carry. */
export interface Outcome {
  readonly status: number;
  readonly type: ResourceTypeName;
  readonly id: string;
  readonly location: string;
  readonly version: string | undefined;
  readonly resource: ScimResource | undefined;
  readonly change: Change | undefined;
}
