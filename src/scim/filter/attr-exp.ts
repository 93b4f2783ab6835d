import { COMPARE_OPS, type CompareOp, type CompareValue, type CompareNode, type PresentNode } from './ast.js';
import { parseAttrPath } from './attr-path.js';
import { clip, describeToken, type Token } from './lexer.js';
import type { ParseContext } from './parse-context.js';
import { checkNodes } from './limits.js';
import { FilterSyntaxError } from './syntax-error.js';

/**
 * `attrExp = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)` (RFC 7644 §3.4.2.2).
 * Operators and the literals `true`, `false`, `null` are case-insensitive ("Attribute names
 * and attribute operators used in filters are case insensitive"); the AST holds them in lower
 * case.
 */

/** RFC 8259 §6 number; `+1`, `01`, `.5` and `1.` are not JSON. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

const LITERALS: Readonly<Record<string, boolean | null>> = { true: true, false: false, null: null };

const OPERATOR_LIST = 'a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or "pr"';

export const isKeyword = (t: Token | undefined, keyword: string): boolean =>
  t !== undefined && t.type === 'word' && t.text.toLowerCase() === keyword;

const isCompareOp = (s: string): s is CompareOp => (COMPARE_OPS as readonly string[]).includes(s);

/** `eq`, `PR`, …: a word that can follow an attribute path. */
export const isOperatorWord = (t: Token): boolean =>
  t.type === 'word' && (t.text.toLowerCase() === 'pr' || isCompareOp(t.text.toLowerCase()));

/** `tokens[i]` is a word; returns the node and the index of the token after the expression. */
export function parseAttrExp(tokens: readonly Token[], i: number, ctx: ParseContext): { node: CompareNode | PresentNode; next: number } {
  const pathToken = tokens[i] as Extract<Token, { type: 'word' }>;
  const path = parseAttrPath(pathToken.text, pathToken.pos, { schemaUrns: ctx.schemaUrns });
  const opToken = tokens[i + 1]!;
  const op = opToken.type === 'word' ? opToken.text.toLowerCase() : '';
  if (op !== 'pr' && !isCompareOp(op)) {
    throw new FilterSyntaxError(opToken.pos, `expected ${OPERATOR_LIST} after ${describeToken(pathToken)} but found ${describeToken(opToken)}`);
  }
  ctx.terms += 1;
  checkNodes(ctx.terms, pathToken.pos, ctx.limits);
  if (op === 'pr') {
    checkNoValue(tokens[i + 2]!);
    return { node: { kind: 'present', path }, next: i + 2 };
  }
  const valueToken = tokens[i + 2]!;
  const value = readValue(valueToken, op);
  checkValueFitsOperator(op, value, valueToken.pos);
  return { node: { kind: 'compare', path, op, value }, next: i + 3 };
}

/** `compValue = false / null / true / number / string`. */
function readValue(t: Token, op: CompareOp): CompareValue {
  if (t.type === 'string') return t.value;
  const expected = `expected a value (a string, number, true, false or null) after "${op}" but found ${describeToken(t)}`;
  if (t.type !== 'word') throw new FilterSyntaxError(t.pos, expected);
  const literal = LITERALS[t.text.toLowerCase()];
  if (literal !== undefined) return literal;
  if (JSON_NUMBER.test(t.text)) return readNumber(t.text, t.pos);
  const hint = /^[A-Za-z]/.test(t.text) ? '; strings must be in double quotes' : '';
  throw new FilterSyntaxError(t.pos, expected + hint);
}

/** `1e999` is valid JSON but not a finite number; `-0` becomes 0 so it prints back as written. */
function readNumber(text: string, pos: number): number {
  const n = Number(text);
  if (!Number.isFinite(n)) throw new FilterSyntaxError(pos, `number ${clip(text)} is out of range`);
  return n === 0 ? 0 : n;
}

/** `title pr "x"`: the ABNF gives `pr` no operand, and a dangling value is a client mistake. */
function checkNoValue(t: Token): void {
  const looksLikeValue =
    t.type === 'string' || (t.type === 'word' && (LITERALS[t.text.toLowerCase()] !== undefined || JSON_NUMBER.test(t.text)));
  if (looksLikeValue) throw new FilterSyntaxError(t.pos, `"pr" takes no value but found ${describeToken(t)}`);
}

/**
 * Only `eq` and `ne` compare with true, false or null. Ordering a boolean "SHALL fail" with
 * invalidFilter (RFC 7644 §3.4.2.2 Table 3), and substrings or ordering of null have no
 * meaning, so these are refused here rather than by every consumer.
 */
function checkValueFitsOperator(op: CompareOp, value: CompareValue, pos: number): void {
  if (op === 'eq' || op === 'ne') return;
  if (value === null || typeof value === 'boolean') {
    throw new FilterSyntaxError(pos, `"${op}" needs a string or number value, not ${String(value)}`);
  }
}
