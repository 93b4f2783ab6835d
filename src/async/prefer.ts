/**
 * RFC 7240 Prefer (PREF-1..PREF-4): comma-separated preferences over one or more header lines,
 * names case-insensitive, parameters after `;` ignored, first occurrence wins, unknown ignored.
 * `X-SCIM-Request-Mode: asynchronous` (published async-SCIM proposals) means respond-async too.
 */
export interface Preferences {
  respondAsync: boolean;
  /** Seconds the client is willing to wait (RFC 7240 §4.3); undefined when absent or invalid. */
  wait?: number;
}

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
      if (!name || seen.has(name)) continue; // PREF-2: first occurrence wins
      const raw = eq < 0 ? undefined : token!.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      seen.set(name, raw);
    }
  }
  const mode = Array.isArray(requestMode) ? requestMode[0] : requestMode;
  const out: Preferences = { respondAsync: seen.has('respond-async') || mode?.trim().toLowerCase() === 'asynchronous' };
  const wait = seen.get('wait');
  if (wait !== undefined && /^\d{1,9}$/.test(wait)) out.wait = Number(wait);
  return out;
}
