import { readJsonString } from './json-string.js';

/**
 * Splits a filter or PATCH path into tokens. The lexer does not know keywords: `and`, `pr`,
 * `true` or `-1` are all `word`s, and the parser decides by position, because ATTRNAME
 * (`ALPHA *(nameChar)`) may legally spell `and`, `pr` or `true` (RFC 7644 §3.4.2.2).
 *
 * A word runs until whitespace or one of `( ) [ ] "`. That keeps a URN-qualified path such as
 * `urn:ietf:params:scim:schemas:core:2.0:User:name.familyName`, a `$ref` and a number like
 * `-1.5e3` in one token; the `.value` after `]` in a PATCH path is the word `.value`.
 * Whitespace between tokens is insignificant (the ABNF's single SP is accepted as any run of
 * SP, HTAB, CR or LF, which clients produce when they pretty-print long filters).
 */

export type PunctType = 'lparen' | 'rparen' | 'lbracket' | 'rbracket' | 'end';

export type Token =
  | { readonly type: PunctType; readonly pos: number }
  | { readonly type: 'word'; readonly pos: number; readonly text: string }
  | { readonly type: 'string'; readonly pos: number; readonly value: string };

const PUNCT: Readonly<Record<string, PunctType>> = { '(': 'lparen', ')': 'rparen', '[': 'lbracket', ']': 'rbracket' };

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const endsWord = (c: string) => isSpace(c) || c === '"' || PUNCT[c] !== undefined;

/** Always ends with one `end` token positioned at `text.length`. */
export function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const punct = PUNCT[c];
    if (isSpace(c)) {
      i += 1;
    } else if (punct !== undefined) {
      tokens.push({ type: punct, pos: i });
      i += 1;
    } else if (c === '"') {
      const { value, end } = readJsonString(text, i);
      tokens.push({ type: 'string', pos: i, value });
      i = end;
    } else {
      let j = i + 1;
      while (j < text.length && !endsWord(text[j]!)) j += 1;
      tokens.push({ type: 'word', pos: i, text: text.slice(i, j) });
      i = j;
    }
  }
  tokens.push({ type: 'end', pos: text.length });
  return tokens;
}

/** How a token reads in an error detail: `"userName"`, `string "wo…"`, `')'`, `end of input`. */
export function describeToken(t: Token): string {
  switch (t.type) {
    case 'word':
      return `"${clip(t.text)}"`;
    case 'string':
      return `string ${JSON.stringify(clip(t.value))}`;
    case 'lparen':
      return "'('";
    case 'rparen':
      return "')'";
    case 'lbracket':
      return "'['";
    case 'rbracket':
      return "']'";
    case 'end':
      return 'end of input';
  }
}

/** Error details echo client text; a 4 KB token would make the detail as large as the filter. */
export function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
