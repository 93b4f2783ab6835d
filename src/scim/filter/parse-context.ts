import type { ResolvedLimits } from './limits.js';

/** What one parse carries from the expression parser (parser.ts) into each attrExp (attr-exp.ts). */
export interface ParseContext {
  readonly limits: ResolvedLimits;
  readonly schemaUrns?: readonly string[] | undefined;
  /** attrExp terms seen so far, across value paths, for maxNodes. */
  terms: number;
}
