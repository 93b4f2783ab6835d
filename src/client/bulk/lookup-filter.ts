/**
 * Existence checks by externalId (RFC 7644 §3.4.2.2): `externalId eq "a" or externalId eq "b"`.
 * Filter literals are JSON strings, so JSON.stringify quotes and escapes them. Chunks stay under
 * a term count and a length that servers accept in a URL (scimcast allows 200 terms and 4,096
 * characters; many servers cap URLs near 8 KiB once percent-encoded).
 */
export const LOOKUP_MAX_TERMS = 50;
export const LOOKUP_MAX_CHARS = 2_000;

export const externalIdTerm = (externalId: string): string => `externalId eq ${JSON.stringify(externalId)}`;

export function externalIdFilter(externalIds: readonly string[]): string {
  return externalIds.map(externalIdTerm).join(' or ');
}

/** How many of `externalIds` (from the start) go in the next filter. Always at least one. */
export function lookupChunkSize(externalIds: readonly string[], maxTerms = LOOKUP_MAX_TERMS, maxChars = LOOKUP_MAX_CHARS): number {
  let chars = 0;
  let n = 0;
  for (const id of externalIds) {
    const add = externalIdTerm(id).length + (n > 0 ? 4 : 0);
    if (n >= maxTerms || (n > 0 && chars + add > maxChars)) break;
    chars += add;
    n++;
  }
  return Math.max(1, n);
}

/**
 * Whether listing every resource that has an externalId (`total` of them, `pageSize` a page) is
 * cheaper than chunked lookups of the `waiting` items. A server pays per resource it returns, so
 * a listing that returns more resources than there are items to check loses even in fewer
 * requests: importing 5,000 rows into a directory of 20,000 must not page through all 20,000.
 */
export function listingPays(total: number, waiting: number, pageSize: number): boolean {
  return total <= waiting && Math.ceil(total / pageSize) < Math.ceil(waiting / LOOKUP_MAX_TERMS);
}
