/**
 * RFC 7240 Prefer (§2, §4.1, §4.3): comma-separated preferences over one or more header lines,
 * names case-insensitive, parameters after `;` ignored, first occurrence wins, unknown ignored.
 * `X-SCIM-Request-Mode: asynchronous` (published async-SCIM proposals) means respond-async too.
 */
export interface Preferences {
  respondAsync: boolean;
  /** Seconds the client is willing to wait (RFC 7240 §4.3); undefined when absent or invalid. */
  wait?: number;
  /** RFC 7240 §4.2 `return=minimal|representation`; undefined when absent or another value. */
  return?: 'minimal' | 'representation';
  /**
   * `callback="<url>"` (a scimcast extension, not a standard): also push this txn's asyncresp SETs
   * to that URL. Raw as sent; the admission validates it.
   */
  callback?: string;
  /** `priority=high|normal|low` (a scimcast extension); undefined when absent or another value. */
  priority?: Priority;
}

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (ch === sep && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parsePrefer(headerValues: string | string[] | undefined, requestMode?: string | string[]): Preferences {
  const lines = headerValues === undefined ? [] : Array.isArray(headerValues) ? headerValues : [headerValues];
  const seen = new Map<string, string | undefined>();
  for (const line of lines) {
    for (const pref of splitOutsideQuotes(line, ',')) {
      const [token] = splitOutsideQuotes(pref, ';');
      const eq = token!.indexOf('=');
      const name = (eq < 0 ? token! : token!.slice(0, eq)).trim().toLowerCase();
      if (!name || seen.has(name)) continue; // RFC 7240 §2: first occurrence wins
      const raw = eq < 0 ? undefined : token!.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      seen.set(name, raw);
    }
  }
  const mode = Array.isArray(requestMode) ? requestMode[0] : requestMode;
  const out: Preferences = { respondAsync: seen.has('respond-async') || mode?.trim().toLowerCase() === 'asynchronous' };
  const wait = seen.get('wait');
  if (wait !== undefined && /^\d{1,9}$/.test(wait)) out.wait = Number(wait);
  // RFC 7240 §2: a preference the server does not understand (here: an unknown value) is ignored.
  const ret = seen.get('return')?.toLowerCase();
  if (ret === 'minimal' || ret === 'representation') out.return = ret;
  const callback = seen.get('callback');
  if (callback !== undefined) out.callback = callback;
  const priority = seen.get('priority')?.toLowerCase();
  if ((PRIORITIES as readonly string[]).includes(priority ?? '')) out.priority = priority as Priority;
  return out;
}
