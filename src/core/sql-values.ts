/**
 * A failed statement's bound values (drizzle's DrizzleQueryError puts them in its message as
 * `params: …`) can hold a resource document, a token hash or an authorization_header. Log lines
 * keep the statement and drop the values, up to the next stack frame or the end of the text.
 * The pattern is linear: one lazy run, ended by a fixed lookahead, per occurrence.
 */
export function redactSqlValues(text: string): string {
  return text.replace(/\nparams: [\s\S]*?(?=\n\s*at |$)/g, '\nparams: [redacted]');
}

/** Longest statement text a one-line error keeps: a multi-row INSERT can run to megabytes. */
const STATEMENT_CHARS = 200;

/**
 * One short log line for an error: drizzle's "Failed query: <statement>" shortened, without its
 * values, followed by what PostgreSQL said (its SQLSTATE and message, never its `detail`, which
 * quotes the row's values).
 */
export function errorLine(e: unknown): string {
  if (!(e instanceof Error)) return redactSqlValues(String(e));
  const own = e.message.split('\nparams:')[0]!;
  const head = own.length > STATEMENT_CHARS ? `${own.slice(0, STATEMENT_CHARS)}…` : own;
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  if (!cause || typeof cause !== 'object') return redactSqlValues(head);
  const code = typeof cause.code === 'string' ? `${cause.code} ` : '';
  return `${redactSqlValues(head)} — ${code}${redactSqlValues(String(cause.message ?? ''))}`;
}
