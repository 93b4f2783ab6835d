import type { FilterNode } from './ast.js';
import { lex } from './lexer.js';
import { checkLength, resolveLimits, type FilterLimits } from './limits.js';
import { parseExpression } from './parser.js';
import { FilterSyntaxError, withScimErrors } from './syntax-error.js';

export type { AttrPath, CompareNode, CompareOp, CompareValue, FilterNode, LogicalNode, NotNode, PresentNode, ValuePathNode } from './ast.js';
export { COMPARE_OPS } from './ast.js';
export { formatAttrPath, KNOWN_SCHEMA_URNS } from './attr-path.js';
export { DEFAULT_FILTER_LIMITS, type FilterLimits } from './limits.js';
export { stringifyFilter } from './stringify.js';

/**
 * Parses a SCIM filter (`filter=` query parameter or SearchRequest `filter`) into a FilterNode.
 * Any syntax error or exceeded limit is 400 `invalidFilter` whose detail names the 0-based
 * character position and what was expected (RFC 7644 §3.4.2.2, §3.12 Table 9).
 * @see RFC 7644 §3.4.2.2 Figure 1
 */
export function parseFilter(text: string, limits?: FilterLimits): FilterNode {
  return withScimErrors('invalidFilter', () => {
    const resolved = resolveLimits(limits);
    checkLength(text, resolved, 'filter');
    if (text.trim() === '') throw new FilterSyntaxError(undefined, 'filter is empty');
    return parseExpression(lex(text), 0, { limits: resolved, terms: 0 }, { kind: 'filter' }).node;
  });
}
