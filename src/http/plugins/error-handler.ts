import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ZodError } from 'zod';
import { ScimError, toScimErrorBody, type ScimType } from '../../core/errors.js';
import { SCIM_CONTENT_TYPE } from './scim-json.js';

/** Framework error codes mapped to SCIM errors (conventions: every 4xx/5xx is a SCIM error body). */
function fromFastify(e: FastifyError, limits: { maxBodySize: number; bulkMaxPayloadSize: number; url: string }): ScimError | undefined {
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const isBulk = /\/Bulk\b/i.test(limits.url);
      const limit = isBulk ? limits.bulkMaxPayloadSize : limits.maxBodySize;
      return new ScimError(413, undefined, isBulk ? `Bulk request body exceeds maxPayloadSize of ${limit} bytes` : `Request body exceeds the limit of ${limit} bytes`);
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ScimError(415, undefined, 'Content-Type must be application/scim+json or application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ScimError(400, 'invalidSyntax', 'Request body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ScimError(400, 'invalidSyntax', 'Content-Length does not match the body');
    default:
      break;
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const scimType: ScimType | undefined = e.statusCode === 400 ? 'invalidSyntax' : undefined;
    return new ScimError(e.statusCode, scimType, e.message);
  }
  return undefined;
}

export function sendScimError(reply: FastifyReply, e: ScimError): FastifyReply {
  for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
  return reply.code(e.status).type(SCIM_CONTENT_TYPE).send(toScimErrorBody(e));
}

/** The one place errors become HTTP (architecture B4). Unknown errors are a 500 with no internals. */
export function registerErrorHandler(app: FastifyInstance, limits: { maxBodySize: number; bulkMaxPayloadSize: number }): void {
  app.setErrorHandler((err, req, reply) => {
    let scim: ScimError | undefined;
    if (err instanceof ScimError) scim = err;
    else if (err instanceof ZodError) scim = new ScimError(400, 'invalidValue', err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    else scim = fromFastify(err as FastifyError, { ...limits, url: req.url });
    if (!scim) {
      req.log.error({ err }, 'unhandled error');
      scim = new ScimError(500, undefined, 'Internal server error');
    }
    return sendScimError(reply, scim);
  });
  app.setNotFoundHandler((req, reply) => sendScimError(reply, new ScimError(404, undefined, `No endpoint ${req.method} ${req.url.split('?')[0]}`)));
}
