import type { FilterNode } from './ast.js';
import { formatAttrPath } from './attr-path.js';

/**
 * Prints a FilterNode as filter text that parses back to the same AST (cursors, logs, the
 * `filter` echoed in errors). Spacing and keyword case are canonical (`a eq "x" and b pr`),
 * values are JSON (`JSON.stringify` escapes exactly what RFC 8259 requires), and parentheses
 * appear only where precedence needs them: an `or` inside an `and`. Recursion is fine: the
 * parser bounds AST depth by `maxDepth`.
 */
export function stringifyFilter(node: FilterNode): string {
  switch (node.kind) {
    case 'compare':
      return `${formatAttrPath(node.path)} ${node.op} ${JSON.stringify(node.value)}`;
    case 'present':
      return `${formatAttrPath(node.path)} pr`;
    case 'not':
      return `not (${stringifyFilter(node.child)})`;
    case 'valuePath':
      return `${formatAttrPath(node.path)}[${stringifyFilter(node.filter)}]`;
    case 'and':
    case 'or':
      return node.children.map((c) => wrapIfNeeded(node.kind, c)).join(` ${node.kind} `);
  }
}

/**
 * `and` binds tighter than `or` (RFC 7644 §3.4.2.2), so an `or` child of `and` needs
 * parentheses; a same-kind child (only in hand-built ASTs) keeps them to preserve its shape.
 */
function wrapIfNeeded(parent: 'and' | 'or', child: FilterNode): string {
  const text = stringifyFilter(child);
  const needs = child.kind === 'or' || (child.kind === 'and' && parent === 'and');
  return needs ? `(${text})` : text;
}
