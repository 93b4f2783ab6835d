import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { isDatabaseUnavailable } from '../../core/connection-errors.js';
import { ScimError, toScimErrorBody, type ScimType } from '../../core/errors.js';
import { SCIM_CONTENT_TYPE } from './scim-json.js';

/** Framework error codes mapped to SCIM errors: every 4xx/5xx a client gets is an RFC 7644 §3.12 body. */
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

/**
 * Connection-class failures mean the database is away (restart, failover, network): the request
 * may succeed later, so it is a 503 with Retry-After (RFC 9110 §15.6.4), not a 500. What counts
 * is core/connection-errors.ts, shared with the worker.
 */
/**
 * SQLSTATE 57014 (query_canceled): a statement ran past SCIMCAST_STATEMENT_TIMEOUT_MS, or an
 * operator cancelled it; the transaction it ran in was rolled back. Outside list queries (storage turns
 * those into 400 tooMany, since only a narrower filter helps) the usual cause is load or a lock
 * held elsewhere, which passes: 503 with Retry-After (RFC 9110 §15.6.4), never a bare 500.
 */
function statementCancelled(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ((e as { code?: unknown }).code === '57014') return true;
  }
  return false;
}

export function sendScimError(reply: FastifyReply, e: ScimError): FastifyReply {
  for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
  return reply.code(e.status).type(SCIM_CONTENT_TYPE).send(toScimErrorBody(e));
}

/**
 * Errors the router raises before any route or hook runs (fastify `frameworkErrors`): a path
 * that is not validly %-encoded, or a path segment longer than the router's limit. Without this
 * they would be fastify's own JSON, not a SCIM error body (RFC 7644 §3.12).
 */
export function frameworkError(e: FastifyError, _req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (e.code === 'FST_ERR_BAD_URL') return sendScimError(reply, new ScimError(400, 'invalidSyntax', 'The request path is not validly percent-encoded'));
  if (e.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendScimError(reply, new ScimError(414, undefined, `A path segment exceeds ${MAX_PARAM_LENGTH} characters`));
  reply.log.error({ err: e }, 'router error');
  return sendScimError(reply, new ScimError(500, undefined, 'Internal server error'));
}

/** The router's bound on one path parameter (fastify's default); ids and stream ids are far shorter. */
export const MAX_PARAM_LENGTH = 100;

/** The one place errors become HTTP: modules throw codes, not responses. Unknown errors are a 500 with no internals. */
export function registerErrorHandler(app: FastifyInstance, limits: { maxBodySize: number; bulkMaxPayloadSize: number; statementTimeoutMs?: number }): void {
  const timeout = limits.statementTimeoutMs ? ` (${limits.statementTimeoutMs} ms)` : '';
  app.setErrorHandler((err, req, reply) => {
    let scim: ScimError | undefined;
    if (err instanceof ScimError) scim = err;
    else if (err instanceof ZodError) scim = new ScimError(400, 'invalidValue', err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    else scim = fromFastify(err as FastifyError, { ...limits, url: req.url });
    if (!scim && isDatabaseUnavailable(err)) {
      req.log.warn({ err }, 'database unavailable');
      scim = new ScimError(503, undefined, 'The service is temporarily unavailable (database unreachable); retry later', { headers: { 'retry-after': '5' } });
    }
    if (!scim && statementCancelled(err)) {
      req.log.warn({ err }, 'statement cancelled');
      scim = new ScimError(503, undefined, `The database did not finish this request within the statement timeout${timeout} and cancelled it; retry later`, {
        headers: { 'retry-after': '5' },
      });
    }
    if (!scim) {
      req.log.error({ err }, 'unhandled error');
      scim = new ScimError(500, undefined, 'Internal server error');
    }
    return sendScimError(reply, scim);
  });
  app.setNotFoundHandler((req, reply) => sendScimError(reply, new ScimError(404, undefined, `No endpoint ${req.method} ${req.url.split('?')[0]}`)));
}
