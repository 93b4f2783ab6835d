/**
 * The typed AST of a SCIM filter (RFC 7644 §3.4.2.2, Figure 1). The SQL compiler
 * (storage/filter-sql.ts) and the in-memory evaluator consume it, so every shape is closed:
 * switch on `kind` and TypeScript proves the cases are exhaustive.
 *
 * Names (schema, attr, subAttr) are kept exactly as the client wrote them. RFC 7643 §2.1
 * makes attribute names and schema URIs case-insensitive, so consumers resolve them
 * case-insensitively; operators and `true/false/null` are already normalised to lower case.
 */

/** RFC 7644 §3.4.2.2 Table 3, minus `pr` (which has its own node). */
export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

export const COMPARE_OPS: readonly CompareOp[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];

/**
 * `compValue = false / null / true / number / string` (JSON, RFC 7159). dateTime values
 * arrive as strings; the consumer knows the attribute type and converts.
 */
export type CompareValue = string | number | boolean | null;

/**
 * `attrPath = [URI ":"] ATTRNAME *1subAttr`. `schema` is present only when the client
 * qualified the name with a schema URI. `attr` is `''` only in a PATCH path that names a
 * whole extension (`urn:…:enterprise:2.0:User`), never in a filter.
 */
export interface AttrPath {
  readonly schema?: string;
  readonly attr: string;
  readonly subAttr?: string;
}

/** `attrPath SP compareOp SP compValue`. */
export interface CompareNode {
  readonly kind: 'compare';
  readonly path: AttrPath;
  readonly op: CompareOp;
  readonly value: CompareValue;
}

/** `attrPath SP "pr"`. */
export interface PresentNode {
  readonly kind: 'present';
  readonly path: AttrPath;
}

/**
 * `FILTER SP ("and" / "or") SP FILTER`, n-ary: `a and b and c` is one node with three
 * children. Always at least two children, and a child never has the same kind as its
 * parent (the parser flattens `(a and b) and c`), so every filter has one canonical AST.
 */
export interface LogicalNode {
  readonly kind: 'and' | 'or';
  readonly children: readonly FilterNode[];
}

/** `"not" "(" FILTER ")"`. */
export interface NotNode {
  readonly kind: 'not';
  readonly child: FilterNode;
}

/**
 * `valuePath = attrPath "[" valFilter "]"`. Paths inside `filter` are relative to the
 * multi-valued attribute: in `emails[type eq "work"]` the inner path is `{ attr: 'type' }`.
 * `path` never has a subAttr and `filter` never contains another valuePath.
 */
export interface ValuePathNode {
  readonly kind: 'valuePath';
  readonly path: AttrPath;
  readonly filter: FilterNode;
}

export type FilterNode = CompareNode | PresentNode | LogicalNode | NotNode | ValuePathNode;
