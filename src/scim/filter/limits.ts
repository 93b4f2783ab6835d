import { FilterSyntaxError } from './syntax-error.js';

/**
 * Bounds on hostile filters. A filter arrives in a URL or a SearchRequest body from any
 * authenticated client, and each term becomes SQL, so size is capped before any work:
 * - maxLength: characters of filter text, checked before lexing.
 * - maxNodes: attribute expressions (`compare` and `present` nodes), the terms SQL evaluates.
 * - maxDepth: nesting of `(`, `not (` and `[`. The parser is iterative, so depth is a cost
 *   bound, not a stack guard; it also bounds the AST depth so consumers may recurse.
 * Exceeding a bound is 400 `invalidFilter` (RFC 7644 §3.4.2.2: filters the server will not
 * evaluate are declined with invalidFilter).
 */
export interface FilterLimits {
  maxLength?: number;
  maxNodes?: number;
  maxDepth?: number;
}

export type ResolvedLimits = Required<FilterLimits>;

export const DEFAULT_FILTER_LIMITS: Readonly<ResolvedLimits> = Object.freeze({
  maxLength: 4096,
  maxNodes: 200,
  maxDepth: 32,
});

export function resolveLimits(limits: FilterLimits = {}): ResolvedLimits {
  return {
    maxLength: limits.maxLength ?? DEFAULT_FILTER_LIMITS.maxLength,
    maxNodes: limits.maxNodes ?? DEFAULT_FILTER_LIMITS.maxNodes,
    maxDepth: limits.maxDepth ?? DEFAULT_FILTER_LIMITS.maxDepth,
  };
}

/** `what` is "filter" or "path", so the detail names the thing the client sent. */
export function checkLength(text: string, limits: ResolvedLimits, what: string): void {
  if (text.length > limits.maxLength) {
    throw new FilterSyntaxError(undefined, `${what} exceeds ${limits.maxLength} characters`);
  }
}

export function checkNodes(count: number, pos: number, limits: ResolvedLimits): void {
  if (count > limits.maxNodes) throw new FilterSyntaxError(pos, `filter exceeds ${limits.maxNodes} terms`);
}

export function checkDepth(depth: number, pos: number, limits: ResolvedLimits): void {
  if (depth > limits.maxDepth) {
    throw new FilterSyntaxError(pos, `filter exceeds ${limits.maxDepth} levels of nesting`);
  }
}
