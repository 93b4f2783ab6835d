import { FilterSyntaxError } from './syntax-error.js';

/**
 * Decodes one JSON string literal (RFC 8259 §7, which RFC 7644 §3.4.2.2 `compValue` points
 * to through RFC 7159): every escape, `\uXXXX` included, and surrogate pairs.
 */

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * A lone surrogate is legal JSON text but not a Unicode scalar value: Postgres would reject
 * it in a UTF-8 parameter, so it is refused here with a position instead of failing later.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `text[start]` is the opening quote; returns the decoded value and the index after the closing quote. */
export function readJsonString(text: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      checkScalarValues(value, start);
      return { value, end: i + 1 };
    }
    if (c < ' ') throw new FilterSyntaxError(i, 'control characters in a string must be escaped (RFC 8259 §7)');
    if (c !== '\\') {
      value += c;
      i += 1;
      continue;
    }
    const decoded = readEscape(text, i);
    value += decoded.value;
    i = decoded.end;
  }
  throw new FilterSyntaxError(start, 'unterminated string: expected a closing \'"\'');
}

/** `text[at]` is a backslash. */
function readEscape(text: string, at: number): { value: string; end: number } {
  const kind = text[at + 1];
  if (kind === undefined) throw new FilterSyntaxError(at, 'unterminated string: expected an escape after "\\"');
  const simple = SIMPLE_ESCAPES[kind];
  if (simple !== undefined) return { value: simple, end: at + 2 };
  if (kind !== 'u') throw new FilterSyntaxError(at, `invalid escape "\\${kind}" in string`);
  const hex = text.slice(at + 2, at + 6);
  if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw new FilterSyntaxError(at, 'invalid \\u escape: expected four hex digits');
  return { value: String.fromCharCode(parseInt(hex, 16)), end: at + 6 };
}

function checkScalarValues(value: string, start: number): void {
  // U+0000 is a valid JSON escape but PostgreSQL text cannot hold it, so no stored value could
  // match it; refused here rather than surfacing as a database error.
  if (value.includes('\u0000')) throw new FilterSyntaxError(start, 'string contains U+0000, which no SCIM value can hold');
  if (LONE_SURROGATE.test(value)) {
    throw new FilterSyntaxError(start, 'string contains an unpaired UTF-16 surrogate');
  }
}
