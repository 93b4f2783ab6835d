import type { AttrPath, FilterNode } from './ast.js';
import { parseValuePathAttr } from './attr-path.js';
import { isKeyword, isOperatorWord, parseAttrExp } from './attr-exp.js';
import { describeToken, type Token } from './lexer.js';
import { checkDepth } from './limits.js';
import type { ParseContext } from './parse-context.js';
import { FilterSyntaxError } from './syntax-error.js';

/**
 * RFC 7644 §3.4.2.2 Figure 1 over the lexer's tokens:
 *   FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
 *   valuePath = attrPath "[" valFilter "]"      (valFilter: FILTER without valuePath)
 *   logExp    = FILTER SP ("and" / "or") SP FILTER
 * with precedence not > and > or ("Logical operators - where "not" takes precedence over
 * "and", which takes precedence over "or").
 *
 * The parser is iterative: every `(`, `not (` and `[` pushes a Frame and its closer pops it,
 * so 10,000 nested parentheses cost an array, never the call stack. Each frame collects an
 * or-list of and-lists, which is all the precedence two binary operators need.
 */

type FrameKind = 'root' | 'paren' | 'not' | 'valuePath';

interface Frame {
  readonly kind: FrameKind;
  /** Where the opening `(` or `[` is, for "expected ')' to close the '(' at position N". */
  readonly pos: number;
  readonly path?: AttrPath;
  readonly ors: FilterNode[];
  ands: FilterNode[];
}

/**
 * `filter`: tokens[start..] up to the end token is one FILTER.
 * `valFilter`: tokens[start] follows a `[` at `openPos`; parses up to the matching `]` and
 * returns the index after it (the PATCH path parser continues from there).
 */
export type ParseMode = { kind: 'filter' } | { kind: 'valFilter'; openPos: number };

export function parseExpression(tokens: readonly Token[], start: number, ctx: ParseContext, mode: ParseMode): { node: FilterNode; next: number } {
  const bottom: Frame =
    mode.kind === 'filter' ? newFrame('root', start) : newFrame('valuePath', mode.openPos);
  const frames: Frame[] = [bottom];
  const depthOf = () => frames.length - (mode.kind === 'filter' ? 1 : 0);
  checkDepth(depthOf(), mode.kind === 'filter' ? start : mode.openPos, ctx.limits);
  let i = start;
  let expectOperand = true;
  for (;;) {
    const t = tokens[i]!;
    const top = frames[frames.length - 1]!;
    if (expectOperand) {
      const opened = openFrame(tokens, i, frames, ctx);
      if (opened) {
        checkDepth(depthOf(), t.pos, ctx.limits);
        i += opened;
        continue;
      }
      if (t.type !== 'word') throw new FilterSyntaxError(t.pos, `expected an attribute expression, '(' or 'not (' but found ${describeToken(t)}`);
      const { node, next } = parseAttrExp(tokens, i, ctx);
      top.ands.push(node);
      i = next;
      expectOperand = false;
    } else if (isKeyword(t, 'and') || isKeyword(t, 'or')) {
      if (isKeyword(t, 'or')) closeAnd(top);
      i += 1;
      expectOperand = true;
    } else if (t.type === 'rparen' || t.type === 'rbracket') {
      const closed = closeFrame(frames, t);
      if (frames.length === 0) return { node: closed, next: i + 1 };
      frames[frames.length - 1]!.ands.push(closed);
      i += 1;
      if (closed.kind === 'valuePath') checkNoSubAttr(tokens[i]!);
    } else if (t.type === 'end' && frames.length === 1 && top.kind === 'root') {
      return { node: finish(top), next: i };
    } else {
      throw unexpectedAfterExpression(t, top);
    }
  }
}

function newFrame(kind: FrameKind, pos: number, path?: AttrPath): Frame {
  return path === undefined ? { kind, pos, ors: [], ands: [] } : { kind, pos, path, ors: [], ands: [] };
}

/** Pushes a frame for `(`, `not (` or `attrPath [`; returns how many tokens it consumed (0: none). */
function openFrame(tokens: readonly Token[], i: number, frames: Frame[], ctx: ParseContext): number {
  const t = tokens[i]!;
  const next = tokens[i + 1];
  if (t.type === 'lparen') {
    frames.push(newFrame('paren', t.pos));
    return 1;
  }
  if (t.type !== 'word' || next === undefined) return 0;
  if (isKeyword(t, 'not')) {
    if (next.type === 'lparen') {
      frames.push(newFrame('not', next.pos));
      return 2;
    }
    // An attribute may be named "not" (`not pr`); anything else after "not" lacks its "(".
    if (!isOperatorWord(next)) throw new FilterSyntaxError(next.pos, `expected '(' after "not" but found ${describeToken(next)}`);
  }
  if (next.type !== 'lbracket') return 0;
  checkValuePathAllowed(frames, next.pos);
  const path = parseValuePathAttr(t.text, t.pos, ctx.schemaUrns);
  frames.push(newFrame('valuePath', next.pos, path));
  return 2;
}

/** valFilter excludes valuePath: `emails[type[value eq "x"]]` is not in the grammar. */
function checkValuePathAllowed(frames: readonly Frame[], pos: number): void {
  if (frames.some((f) => f.kind === 'valuePath')) {
    throw new FilterSyntaxError(pos, "value paths cannot be nested: '[' inside '[…]'");
  }
}

/** Pops the frame that `t` closes, or explains which closer was expected. */
function closeFrame(frames: Frame[], t: Token): FilterNode {
  const top = frames[frames.length - 1]!;
  const wants = top.kind === 'valuePath' ? 'rbracket' : top.kind === 'root' ? undefined : 'rparen';
  if (wants === undefined) throw new FilterSyntaxError(t.pos, `unexpected ${describeToken(t)} without a matching opening bracket`);
  if (t.type !== wants) throw new FilterSyntaxError(t.pos, `expected ${closerOf(top)} but found ${describeToken(t)}`);
  frames.pop();
  const inner = finish(top);
  if (top.kind === 'not') return { kind: 'not', child: inner };
  if (top.kind === 'valuePath' && top.path !== undefined) return { kind: 'valuePath', path: top.path, filter: inner };
  return inner;
}

/** `emails[type eq "work"].value` is a PATCH path (§3.5.2), not a filter term. */
function checkNoSubAttr(t: Token): void {
  if (t.type === 'word' && t.text.startsWith('.')) {
    throw new FilterSyntaxError(
      t.pos,
      `a sub-attribute after ']' is only allowed in a PATCH path; use "attribute[filter]" or "attribute.subAttribute" in a filter`,
    );
  }
}

function closerOf(frame: Frame): string {
  return frame.kind === 'valuePath'
    ? `']' to close the '[' at position ${frame.pos}`
    : `')' to close the '(' at position ${frame.pos}`;
}

function unexpectedAfterExpression(t: Token, top: Frame): FilterSyntaxError {
  if (t.type === 'end') return new FilterSyntaxError(t.pos, `expected ${closerOf(top)} but found end of input`);
  const closer = top.kind === 'root' ? ' or end of input' : `, ${top.kind === 'valuePath' ? "']'" : "')'"}`;
  return new FilterSyntaxError(t.pos, `expected "and", "or"${closer} but found ${describeToken(t)}`);
}

/** `or` ends the current and-list: `a and b or c` is or(and(a, b), c). */
function closeAnd(frame: Frame): void {
  frame.ors.push(combine('and', frame.ands));
  frame.ands = [];
}

function finish(frame: Frame): FilterNode {
  closeAnd(frame);
  return combine('or', frame.ors);
}

/** One canonical AST: a single child stands alone and same-kind children are flattened. */
function combine(kind: 'and' | 'or', nodes: readonly FilterNode[]): FilterNode {
  const children = nodes.flatMap((n) => (n.kind === kind ? n.children : [n]));
  if (children.length === 1) return children[0]!;
  return { kind, children };
}
