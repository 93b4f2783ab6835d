import type { AttrPath, FilterNode } from '../filter/ast.js';
import { checkName, formatAttrPath, parseAttrPath, parseValuePathAttr } from '../filter/attr-path.js';
import { describeToken, lex, type Token } from '../filter/lexer.js';
import { checkLength, resolveLimits, type FilterLimits, type ResolvedLimits } from '../filter/limits.js';
import { parseExpression } from '../filter/parser.js';
import { stringifyFilter } from '../filter/stringify.js';
import { FilterSyntaxError, withScimErrors } from '../filter/syntax-error.js';

/**
 * The target of a PATCH operation: `PATH = attrPath / valuePath [subAttr]`
 * (RFC 7644 §3.5.2 Figure 7). Shapes:
 * - `members`, `name.familyName`, `urn:…:enterprise:2.0:User:manager.value` → `{ path }`
 * - `emails[type eq "work"]` → `{ path: { attr: 'emails' }, filter }` (filter paths are
 *   relative to `emails`, exactly as in a filter's value path)
 * - `emails[type eq "work"].value` → `{ path, filter, subAttr: 'value' }`
 * - `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` (a known schema URN alone)
 *   → `{ path: { schema: '<urn>', attr: '' } }`: the whole extension object, which
 *   RFC 7644 §3.5.2.1–3 allow as a target (e.g. `remove` of all enterprise attributes).
 */
export interface PatchPath {
  readonly path: AttrPath;
  readonly filter?: FilterNode;
  readonly subAttr?: string;
}

export interface PatchPathOptions {
  /** Schema URNs recognised as prefixes or whole-extension targets; defaults to KNOWN_SCHEMA_URNS. */
  schemaUrns?: readonly string[];
  /** Bounds for the path text and its value filter; the filter defaults apply. */
  limits?: FilterLimits;
}

/**
 * Parses an `Operations[].path`. Failures are 400 `invalidPath` ("The "path" attribute was
 * invalid or malformed", RFC 7644 §3.12 Table 9), including a malformed value filter inside
 * the brackets, with the 0-based position in the path text.
 */
export function parsePatchPath(text: string, opts: PatchPathOptions = {}): PatchPath {
  return withScimErrors('invalidPath', () => {
    const limits = resolveLimits(opts.limits);
    checkLength(text, limits, 'path');
    if (text.trim() === '') throw new FilterSyntaxError(undefined, 'path is empty');
    const tokens = lex(text);
    const first = tokens[0]!;
    if (first.type !== 'word') throw new FilterSyntaxError(first.pos, `expected an attribute path but found ${describeToken(first)}`);
    const second = tokens[1]!;
    if (second.type === 'lbracket') return parseValuePathTarget(tokens, first, opts.schemaUrns, limits);
    const path = parseAttrPath(first.text, first.pos, { schemaUrns: opts.schemaUrns, allowBareSchema: true });
    expectEnd(second, `after ${describeToken(first)}`);
    return { path };
  });
}

/** `valuePath [subAttr]`: `attr[valFilter]` optionally followed by `.subAttr`. */
function parseValuePathTarget(
  tokens: readonly Token[],
  first: Extract<Token, { type: 'word' }>,
  schemaUrns: readonly string[] | undefined,
  limits: ResolvedLimits,
): PatchPath {
  const path = parseValuePathAttr(first.text, first.pos, schemaUrns);
  const open = tokens[1]!;
  const { node: filter, next } = parseExpression(tokens, 2, { limits, schemaUrns, terms: 0 }, { kind: 'valFilter', openPos: open.pos });
  const after = tokens[next]!;
  if (after.type !== 'word' || !after.text.startsWith('.')) {
    expectEnd(after, "after ']'", ' or ".subAttribute"');
    return { path, filter };
  }
  const subAttr = after.text.slice(1);
  checkName(subAttr, after.pos + 1);
  expectEnd(tokens[next + 1]!, `after ${describeToken(after)}`);
  return { path, filter, subAttr };
}

function expectEnd(t: Token, where: string, alternatives = ''): void {
  if (t.type !== 'end') {
    throw new FilterSyntaxError(t.pos, `expected end of path${alternatives} ${where} but found ${describeToken(t)}`);
  }
}

/** Inverse of parsePatchPath (events' `attributes` list, logs). */
export function stringifyPatchPath(p: PatchPath): string {
  const filter = p.filter === undefined ? '' : `[${stringifyFilter(p.filter)}]`;
  const sub = p.subAttr === undefined ? '' : `.${p.subAttr}`;
  return `${formatAttrPath(p.path)}${filter}${sub}`;
}
