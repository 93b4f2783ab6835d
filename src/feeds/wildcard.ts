/**
 * `*` wildcards in `events_requested` (the i2goSignals extension: `urn:ietf:params:scim:event:prov:*`).
 * `*` stands for any run of characters, nothing else is special, and matching ignores case.
 *
 * A receiver writes these patterns, so they must never become a backtracking regular expression:
 * `.*.*.*.*.*.*.*Z` against a 60-character URI takes seconds of event-loop time and grows
 * polynomially with every `*`. Here the pattern is cut at its `*`s and the pieces are found left
 * to right with indexOf: the first piece must start the text, the last must end it, and each
 * middle piece is taken at its earliest place after the previous one. Taking the earliest place
 * never loses a match (a later place only leaves less text for the pieces after it), so there is
 * no backtracking: at most one indexOf per piece, O(text × pattern) in the worst case and about
 * linear in practice, whatever the number or arrangement of `*`s. Runs of `*` collapse to one.
 */
export type WildcardMatcher = (text: string) => boolean;

export function compileWildcard(pattern: string): WildcardMatcher {
  const pieces = pattern.toLowerCase().split('*');
  if (pieces.length === 1) {
    const exact = pieces[0]!;
    return (text) => text.toLowerCase() === exact;
  }
  const head = pieces[0]!;
  const tail = pieces[pieces.length - 1]!;
  // Empty pieces come from runs of `*` (and a leading or trailing one): they match anywhere.
  const middle = pieces.slice(1, -1).filter((p) => p !== '');
  const fixed = head.length + tail.length;
  return (raw) => {
    const text = raw.toLowerCase();
    if (text.length < fixed || !text.startsWith(head) || !text.endsWith(tail)) return false;
    // Middle pieces must fit between the head and the tail, without overlapping either.
    const end = text.length - tail.length;
    let at = head.length;
    for (const piece of middle) {
      const found = text.indexOf(piece, at);
      if (found === -1 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}

export const matchWildcard = (pattern: string, text: string): boolean => compileWildcard(pattern)(text);
