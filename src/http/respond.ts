import type { FastifyReply } from 'fastify';
import type { Outcome } from '../provisioning/outcome.js';
import type { ScimResource } from '../provisioning/representation.js';
import { SCIM_CONTENT_TYPE } from './plugins/scim-json.js';

/** A single-resource response: ETag equals meta.version (ETAG-1); 201 carries Location (RFC 7644 §3.3). */
export function sendResource(reply: FastifyReply, status: number, resource: ScimResource): FastifyReply {
  reply.header('etag', resource.meta.version as string);
  if (status === 201) reply.header('location', resource.meta.location as string);
  return reply.code(status).type(SCIM_CONTENT_TYPE).send(resource);
}

export function sendOutcome(reply: FastifyReply, o: Outcome): FastifyReply {
  if (o.status === 204 || !o.resource) return reply.code(o.status).send();
  return sendResource(reply, o.status, o.resource);
}
