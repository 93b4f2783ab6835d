/**
 * Errors with stable codes. ScimError is what a SCIM client sees (RFC 7644 §3.12);
 * AppError is an internal failure with a jose-style code. Only http/plugins/error-handler.ts
 * maps them to the wire; in the worker a ScimError is an operation's outcome, not a failure.
 */

/** RFC 7644 §3.12 Table 9 scimType values (plus RFC 7644 §3.7.3 bulk `tooMany`). */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  /** RFC 9865 §2.1 (cursor paging). */
  | 'invalidCursor'
  | 'expiredCursor';

export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;
  readonly detail: string;
  /** Extra response headers the wire mapping must send (e.g. WWW-Authenticate, Retry-After). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    scimType: ScimType | undefined,
    detail: string,
    opts: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(detail, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
    this.detail = detail;
    this.headers = Object.freeze({ ...(opts.headers ?? {}) });
  }
}

export const SCIM_ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** The RFC 7644 §3.12 error body: `status` is a string, not a number. */
export interface ScimErrorBody {
  schemas: [typeof SCIM_ERROR_URN];
  status: string;
  scimType?: ScimType;
  detail: string;
}

export function toScimErrorBody(e: ScimError): ScimErrorBody {
  const body: ScimErrorBody = { schemas: [SCIM_ERROR_URN], status: String(e.status), detail: e.detail };
  if (e.scimType) body.scimType = e.scimType;
  return body;
}

// Shorthands for the errors RFC 7644 Table 8/9 names; one place so details stay consistent.
export const badRequest = (scimType: ScimType, detail: string, cause?: unknown) =>
  new ScimError(400, scimType, detail, { cause });
export const notFound = (detail: string) => new ScimError(404, undefined, detail);
export const conflict = (scimType: ScimType | undefined, detail: string) => new ScimError(409, scimType, detail);
export const preconditionFailed = (detail: string) => new ScimError(412, undefined, detail);
export const payloadTooLarge = (detail: string) => new ScimError(413, undefined, detail);

/**
 * Every AppError code, the registry of them: each one is thrown or tested for somewhere in src/
 * (test/unit/core/error-codes.test.ts checks it), and a code that is not here does not compile.
 */
export const APP_ERROR_CODES = [
  'ERR_CONFIG_INVALID',
  /** The embedded PostgreSQL could not be started or stopped, or its data directory is another process's. */
  'ERR_EMBEDDED_PG',
  /** An admin command found no database: no DATABASE_URL, no running server, no cluster in the data directory. */
  'ERR_DB_UNAVAILABLE',
  'ERR_SIGNING_KEY_MISSING',
  /** Client commands (`scimcast bulk import`): bad input file, unusable journal, server refusal. */
  'ERR_IMPORT_INPUT',
  'ERR_IMPORT_JOURNAL',
  'ERR_SCIM_CLIENT',
  /** A stored secret cannot be opened: SCIMCAST_KEY_ENCRYPTION_KEY missing, wrong, or the value altered. */
  'ERR_KEY_ENCRYPTION',
  /** A worker stopping asks a long job to end between two units of work; the job runs again. */
  'ERR_WORKER_STOPPING',
  /** A long job gives its worker slot to more urgent waiting work between two units of work; it is queued again. */
  'ERR_GIVING_WAY',
  /**
   * A push target resolves to an address push may not reach (delivery/safe-lookup.ts). Like a
   * socket error's code, it is all that leaves the push client: the stream's owner reads it as a
   * generic network failure (delivery/classify.ts).
   */
  'ERR_PUSH_FORBIDDEN_ADDRESS',
  /** A push attempt ran past its overall deadline (delivery/push.ts); retried like any transport failure. */
  'ERR_PUSH_DEADLINE',
] as const;

export type AppErrorCode = (typeof APP_ERROR_CODES)[number];

export class AppError extends Error {
  readonly code: AppErrorCode;
  constructor(code: AppErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
  }
}
