import { randomBytes } from 'node:crypto';

/**
 * Searching what scimcast emits and stores for planted markers (the technique of
 * test/security/secrets-in-logs.test.ts): SETs are base64url JWS, so every compact JWS in a text
 * is decoded before the search.
 */

const COMPACT_JWS = /[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/g;

/** The text plus the decoded header and payload of every compact JWS in it. */
export function withDecodedJws(text: string): string {
  const decoded = (text.match(COMPACT_JWS) ?? []).flatMap((jws) => jws.split('.').slice(0, 2).map((part) => Buffer.from(part, 'base64url').toString('utf8')));
  return [text, ...decoded].join('\n');
}

/**
 * Markers are a fixed prefix and 24 hex digits, so every one in a text is found by one regular
 * expression in a single pass, whatever the number of markers planted.
 */
export function newMarker(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}

/** Every marker with one of `prefixes` in the text (JWS decoded), with a little context each. */
export function markersIn(text: string, prefixes: readonly string[]): Map<string, string> {
  const full = withDecodedJws(text);
  const re = new RegExp(`(?:${prefixes.join('|')})[0-9a-f]{24}`, 'g');
  const out = new Map<string, string>();
  for (const m of full.matchAll(re)) if (!out.has(m[0])) out.set(m[0], full.slice(Math.max(0, m.index - 120), m.index + m[0].length + 40));
  return out;
}

/** Tee this process's stderr (graphile-worker's logger writes there) into `lines`; returns the restore. */
export function captureStderr(lines: string[]): () => void {
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    lines.push(String(chunk));
    return (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  return () => void (process.stderr.write = orig);
}
