/**
 * A failed statement's bound values (drizzle's DrizzleQueryError puts them in its message as
 * `params: …`) can hold a resource document, a token hash or an authorization_header. Log lines
 * keep the statement and drop the values, up to the next stack frame or the end of the text.
 * The pattern is linear: one lazy run, ended by a fixed lookahead, per occurrence.
 */
export function redactSqlValues(text: string): string {
  return text.replace(/\nparams: [\s\S]*?(?=\n\s*at |$)/g, '\nparams: [redacted]');
}
