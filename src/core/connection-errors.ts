/**
 * Errors that mean the database connection is gone or cannot be had right now: a restart, a
 * failover, a network cut. They pass by themselves, so a request answers 503 with Retry-After
 * (http/plugins/error-handler.ts), and graphile-worker retries a job's bookkeeping through them
 * instead of crashing (worker/run.ts, worker/transient-pool.ts). One list, so the API and the
 * worker agree on what "the database is away" means.
 */

/**
 * Codes of a connection that was lost or never made: node socket errors, and SQLSTATE class 08
 * (connection exception) and 57P01/57P02 (the server shut down under the session).
 * @see https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
export const LOST_CONNECTION_CODES: readonly string[] = [
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '08007',
  '08P01',
];

/** SQLSTATE 08006 connection_failure: what a code-less lost-connection error is tagged with. */
export const CONNECTION_FAILURE = '08006';

/**
 * The server is up but takes no connection now: 57P03 cannot_connect_now (starting up, shutting
 * down) and 53300 too_many_connections. A request may succeed later, so it is a 503 too.
 */
const BUSY_CODES = new Set(['57P03', '53300']);

/**
 * node-postgres raises some lost connections without a code: a connection that dies under a
 * query ("Connection terminated unexpectedly"), a client left unusable by one ("… not
 * queryable"), and a pool that could not connect in time.
 */
const LOST_CONNECTION_MESSAGE = /Connection terminated|not queryable|timeout exceeded when trying to connect/;

const LOST = new Set(LOST_CONNECTION_CODES);

/** The error itself (no cause walk) is a lost connection that node-postgres left without a code. */
export function isCodelessLostConnection(e: unknown): e is Error {
  return e instanceof Error && (e as { code?: unknown }).code === undefined && LOST_CONNECTION_MESSAGE.test(e.message);
}

/**
 * Drivers wrap errors (drizzle's DrizzleQueryError keeps the pg error as `cause`), hence the walk
 * down `cause`, a few levels deep.
 */
function someInChain(err: unknown, test: (code: string | undefined, e: Error) => boolean): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (test(typeof code === 'string' ? code : undefined, e)) return true;
  }
  return false;
}

/** The connection to the database was lost or could not be made. */
export function isLostConnection(err: unknown): boolean {
  return someInChain(err, (code, e) => (code !== undefined && (LOST.has(code) || code.startsWith('08'))) || LOST_CONNECTION_MESSAGE.test(e.message));
}

/** The database is away or refuses connections for now: a lost connection, or a busy server. */
export function isDatabaseUnavailable(err: unknown): boolean {
  return isLostConnection(err) || someInChain(err, (code) => code !== undefined && BUSY_CODES.has(code));
}
