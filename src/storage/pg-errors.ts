/**
 * PostgreSQL errors the storage layer gives a meaning to. Drivers wrap them (drizzle's
 * DrizzleQueryError keeps the pg error as `cause`), hence the walk down `cause`.
 */
function codes(err: unknown): { code: string; message: string }[] {
  const out: { code: string; message: string }[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') out.push({ code, message: e.message });
  }
  return out;
}

/** SQLSTATE 57014 query_canceled, raised by statement_timeout (SCIMCAST_STATEMENT_TIMEOUT_MS). */
export const QUERY_CANCELED = '57014';

/** The statement ran past statement_timeout (not an operator's pg_cancel_backend). */
export function isStatementTimeout(err: unknown): boolean {
  return codes(err).some((c) => c.code === QUERY_CANCELED && /statement timeout/.test(c.message));
}
