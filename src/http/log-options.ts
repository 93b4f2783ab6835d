import { redactSqlValues } from '../core/sql-values.js';

/**
 * The request logger's settings: tokens and private keys never reach the logs (SECURITY.md).
 * - `authorization` headers are censored wherever a serializer would put them.
 * - Errors are serialized without the bound values of a failed SQL statement: drizzle's
 *   DrizzleQueryError carries them in `params` and in its message, and pg's `detail` quotes key
 *   values ("Key (token_hash)=(…)"). Those values include token hashes, stream
 *   authorization_headers and resource data.
 * - The request line is logged without bearer tokens in it: RFC 6750 §2.3 lets clients send
 *   `?access_token=…`. scimcast never accepts a token there (only the Authorization header), but
 *   fastify logs `req.url` as received, so a client that tried would put a live token (opaque or
 *   JWT) into every log line of the request. The value is censored, and an opaque token anywhere
 *   else in the URL keeps only its id (the part meant for logs, src/auth/opaque-token.ts).
 */
export interface LogSink {
  write(line: string): void;
}

export function logOptions(level: string, stream?: LogSink) {
  return {
    level,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', '*.authorization'], censor: '[redacted]' },
    serializers: { err: (e: unknown) => serializeError(e) as SerializedError, req: serializeRequest },
    ...(stream ? { stream } : {}),
  };
}

/** The fields of fastify's own request serializer (lib/logger-pino.js), with the URL scrubbed. */
interface LoggedRequest {
  method: string;
  url: string;
  headers?: Record<string, string | string[] | undefined>;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

export function serializeRequest(req: LoggedRequest) {
  const version = req.headers?.['accept-version'];
  return {
    method: req.method,
    url: redactUrl(req.url),
    version: Array.isArray(version) ? version[0] : version,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** Both patterns below start with one of these: a URL without them is returned as it is. */
const SECRET_LOOKING = /access_token=|sct_/i;

/** `access_token` query values censored; `sct_<id>_<secret>` anywhere cut to `sct_<id>_[redacted]`. */
export function redactUrl(url: string): string {
  // Most URLs hold neither: one linear scan, no copy (this runs on every request line).
  if (!SECRET_LOOKING.test(url)) return url;
  return url
    .replace(/([?&;]access_token=)[^&;#]*/gi, '$1[redacted]')
    .replace(/(sct_[0-9a-f]+)(?:_|%5f)[A-Za-z0-9_%-]+/gi, '$1_[redacted]');
}

/** pino's serialized error shape. */
interface SerializedError {
  [key: string]: unknown;
  type: string;
  message: string;
  stack: string;
}

/** Members that may quote a statement's values. */
const VALUE_MEMBERS = new Set(['params', 'parameters', 'detail', 'where', 'internalQuery']);

const scrub = redactSqlValues;

/** pino's err shape (type, message, stack, own members, cause) minus the statement's values. */
export function serializeError(e: unknown, depth = 0): unknown {
  if (e === null || typeof e !== 'object') return e;
  const src = e as Record<string, unknown>;
  const out: Record<string, unknown> = {
    type: (e as { constructor?: { name?: string } }).constructor?.name ?? 'Error',
    message: scrub(String(src.message ?? '')),
  };
  if (typeof src.stack === 'string') out.stack = scrub(src.stack);
  for (const [k, v] of Object.entries(src)) {
    if (k === 'message' || k === 'stack' || k === 'cause' || VALUE_MEMBERS.has(k)) continue;
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[k] = v;
  }
  if (src.cause !== undefined && depth < 4) out.cause = serializeError(src.cause, depth + 1);
  return out;
}
