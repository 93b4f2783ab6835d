import type { FastifyReply } from 'fastify';
import type { Outcome } from '../provisioning/outcome.js';
import type { ScimResource } from '../provisioning/representation.js';
import { SCIM_CONTENT_TYPE } from './plugins/scim-json.js';
import { project, type Selection } from './selection.js';
import type { ResourceTypeName } from '../scim/resource-types.js';
import type { WriteAnswer } from './return-preference.js';

/** A single-resource response: ETag equals meta.version (RFC 7644 §3.14); 201 carries Location (RFC 7644 §3.3). */
export function sendResource(reply: FastifyReply, status: number, resource: ScimResource, sel: Selection = {}): FastifyReply {
  reply.header('etag', resource.meta.version as string);
  if (status === 201) reply.header('location', resource.meta.location as string);
  const type = resource.meta.resourceType as ResourceTypeName;
  return reply.code(status).type(SCIM_CONTENT_TYPE).send(project(type, resource, sel));
}

/** Write responses honour attributes/excludedAttributes too (RFC 7644 §3.9). A PATCH answered 204 still carries the ETag. */
export function sendOutcome(reply: FastifyReply, o: Outcome, sel: Selection = {}): FastifyReply {
  if (o.status === 204 || !o.resource) {
    if (o.change?.kind !== 'delete' && o.status === 204 && o.version) reply.header('etag', o.version);
    return reply.code(o.status).send();
  }
  return sendResource(reply, o.status, o.resource, sel);
}

/**
 * A synchronous POST, PUT or PATCH, as return-preference.ts decided. `Vary: Prefer` because the
 * answer depends on that header (RFC 7240 §2); every answer carries the ETag of the version the
 * write made, with or without a body.
 */
export function sendWrite(reply: FastifyReply, a: WriteAnswer, o: Outcome, resource: ScimResource | undefined, sel: Selection): FastifyReply {
  reply.header('vary', 'Prefer');
  if (a.applied) reply.header('preference-applied', a.applied);
  if (a.location) reply.header('location', o.location);
  if (a.body && resource) return sendResource(reply, a.status, resource, sel);
  if (o.version) reply.header('etag', o.version);
  return reply.code(a.status).send();
}
