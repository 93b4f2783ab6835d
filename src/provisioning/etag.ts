import { preconditionFailed } from '../core/errors.js';

/** Weak ETag from the row version counter (RFC 7644 §3.14). */
export const etagOf = (version: number) => `W/"${version}"`;

/**
 * If-Match on PUT/PATCH/DELETE (RFC 7644 §3.14, RFC 9110 §13.1.1): `*` matches any existing
 * resource; otherwise one of the listed tags must equal the current one. Weak comparison, as
 * both sides are weak.
 */
export function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatchHolds(ifMatch, version)) return;
  throw preconditionFailed(`If-Match ${ifMatch} does not match the current version ${etagOf(version)}`);
}

/** The test of checkIfMatch, without the error: true when there is no If-Match or it matches. */
export function ifMatchHolds(ifMatch: string | undefined, version: number): boolean {
  if (ifMatch === undefined) return true;
  const current = etagOf(version);
  const tags = ifMatch.split(',').map((t) => t.trim());
  const strip = (t: string) => t.replace(/^W\//, '');
  return tags.includes('*') || tags.some((t) => strip(t) === strip(current));
}

/** If-None-Match on GET: true when the client's copy is current (answer 304). */
export function matchesIfNoneMatch(ifNoneMatch: string | undefined, version: number): boolean {
  if (ifNoneMatch === undefined) return false;
  const current = etagOf(version).replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === current);
}
