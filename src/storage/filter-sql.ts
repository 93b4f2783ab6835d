import { sql, type SQL } from 'drizzle-orm';
import { badRequest } from '../core/errors.js';
import type { AttrPath, CompareOp, CompareValue, FilterNode } from '../scim/filter/index.js';
import type { ResourceTypeName } from '../scim/schemas/registry.js';
import { AttrProblem, resolveAttr, type Elements, type Scalar, type Target } from './attr-sql.js';
import type { MemberView } from './member-view.js';
import { resources } from './schema.js';
import { isSubstringOp, likePattern, valuesPrefilter } from './substring-index.js';

/**
 * Compiles a parsed SCIM filter (RFC 7644 §3.4.2.2) into one parameterised SQL condition, so
 * filtering happens in PostgreSQL and never on rows loaded into JS. Client values only ever
 * appear as bound parameters of drizzle's `sql` template.
 *
 * Every term is made two-valued (true/false, never NULL): an unassigned attribute fails
 * `eq`, `co`, `gt`, … and therefore satisfies `ne` and `not (…)`, as a reader of the filter
 * expects, instead of vanishing under SQL's three-valued logic.
 *
 * `co`/`sw`/`ew` on an indexed multi-valued attribute (emails) also get an index-usable prefilter
 * ANDed to the exact term; see substring-index.ts and `withPrefilter` below.
 */

type Resolve = (path: AttrPath) => Target;

/**
 * Where a term sits: `positive` under an even number of `not` (a prefilter there can narrow the
 * rows scanned), `negative` under an odd number, `off` when prefilters are not wanted at all.
 */
type Polarity = 'positive' | 'negative' | 'off';
const flip = (p: Polarity): Polarity => (p === 'positive' ? 'negative' : p === 'negative' ? 'positive' : 'off');

const FALSE = sql`false`;
const TRUE = sql`true`;

/** xsd:dateTime as RFC 7643 §2.3.5 and resource-input.ts accept it. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const ORDER_SQL: Record<'gt' | 'ge' | 'lt' | 'le', SQL> = { gt: sql`>`, ge: sql`>=`, lt: sql`<`, le: sql`<=` };

/** NULL (unassigned) is false, whatever `cmp` would say. */
const definite = (expr: SQL, cmp: SQL) => sql`(${expr} is not null and ${cmp})`;
const not = (cond: SQL) => sql`(not ${cond})`;

/**
 * Strings: caseExact false compares lower() of both sides (RFC 7643 §2.1, §7 caseExact);
 * ordering uses the "C" collation, i.e. code-point order with no locale, the same as sorting.
 */
function compareText(s: Scalar, op: CompareOp, value: string): SQL {
  const fold = (x: SQL) => (s.caseExact ? x : sql`lower(${x})`);
  const left = fold(s.expr);
  switch (op) {
    case 'eq':
      return definite(s.expr, sql`${left} = ${fold(sql`${value}::text`)}`);
    case 'ne':
      return not(compareText(s, 'eq', value));
    case 'co':
    case 'sw':
    case 'ew':
      // With the value's own `%`, `_` and `\` escaped (matched literally).
      return definite(s.expr, sql`${left} like ${fold(sql`${likePattern(op, value)}::text`)} escape '\\'`);
    default:
      return definite(s.expr, sql`(${left}) collate "C" ${ORDER_SQL[op]} ${fold(sql`${value}::text`)}`);
  }
}

/** Booleans, numbers and dateTimes: typed comparison of the cast value (RFC 7644 §3.4.2.2 Table 3). */
function compareTyped(s: Scalar, op: CompareOp, param: SQL): SQL {
  switch (op) {
    case 'eq':
      return definite(s.expr, sql`${s.expr} = ${param}`);
    case 'ne':
      return not(compareTyped(s, 'eq', param));
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le':
      return definite(s.expr, sql`${s.expr} ${ORDER_SQL[op]} ${param}`);
    default:
      throw new AttrProblem(`'${s.label}' is not a string: "${op}" does not apply`);
  }
}

/** The literal must suit the attribute's type; a mismatch is the client's mistake, not "no match". */
function checkOperand(s: Scalar, op: CompareOp, value: string | number | boolean): void {
  const ordering = op === 'gt' || op === 'ge' || op === 'lt' || op === 'le';
  switch (s.kind) {
    case 'string':
    case 'binary':
      if (typeof value !== 'string') throw new AttrProblem(`'${s.label}' is a string: compare it with a quoted value, not ${JSON.stringify(value)}`);
      // RFC 7644 §3.4.2.2: gt/ge/lt/le on Boolean or Binary attributes SHALL fail with invalidFilter.
      if (s.kind === 'binary' && ordering) throw new AttrProblem(`'${s.label}' is binary: "${op}" does not apply (RFC 7644 §3.4.2.2)`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw new AttrProblem(`'${s.label}' is a boolean: compare it with true or false`);
      if (op !== 'eq' && op !== 'ne') throw new AttrProblem(`'${s.label}' is a boolean: only eq and ne apply (RFC 7644 §3.4.2.2)`);
      return;
    case 'number':
      if (typeof value !== 'number') throw new AttrProblem(`'${s.label}' is a number: compare it with an unquoted number`);
      return;
    case 'dateTime':
      if (typeof value !== 'string' || !DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
        throw new AttrProblem(`'${s.label}' is a dateTime: compare it with a quoted xsd:dateTime such as "2026-01-31T12:00:00Z"`);
      }
  }
}

function compareScalar(s: Scalar, op: CompareOp, value: string | number | boolean): SQL {
  checkOperand(s, op, value);
  switch (s.kind) {
    case 'string':
    case 'binary':
      return compareText(s, op, value as string);
    case 'boolean':
      return compareTyped(s, op, sql`${value}::boolean`);
    case 'number':
      return compareTyped(s, op, sql`${value}::numeric`);
    case 'dateTime':
      return compareTyped(s, op, sql`${value}::timestamptz`);
  }
}

/** `pr` (RFC 7644 §3.4.2.2): a non-empty value; for complex and multi-valued, a non-empty node. */
function presentScalar(s: Scalar): SQL {
  return s.kind === 'string' || s.kind === 'binary' ? sql`coalesce(${s.expr} <> '', false)` : sql`(${s.expr} is not null)`;
}

function presentOf(t: Target): SQL {
  switch (t.shape) {
    case 'scalar':
      return presentScalar(t.scalar);
    case 'each':
      return t.elements.exists(presentScalar(t.scalar));
    case 'object':
      return t.present;
    case 'absent':
      return FALSE;
  }
}

/**
 * `emails eq "x"` on a complex attribute compares its `value` sub-attribute (RFC 7643 §2.4:
 * `value` is the attribute's significant value); a complex attribute without one needs a sub-attribute.
 */
function valueOf(t: Extract<Target, { shape: 'object' }>): { elements: Elements; scalar: Scalar } {
  if (!t.elements?.hasValue) throw new AttrProblem(`'${t.label}' is complex: compare one of its sub-attributes (${t.label}.<name>)`);
  return { elements: t.elements, scalar: t.elements.sub('value') };
}

/**
 * RFC 7644 §3.4.2.1 (root searches): "For filtered attributes that are not part of a particular
 * resource type, the service provider SHALL treat the attribute as if there is no attribute
 * value": eq/co/gt… are false, so ne is true.
 */
function compareAbsent(op: CompareOp, value: CompareValue): SQL {
  return op === 'ne' || (op === 'eq' && value === null) ? TRUE : FALSE;
}

/**
 * What the values index of `elements` can narrow for "some element's `sub` `op` `value`": a
 * condition implied by it (substring-index.ts), or undefined. Only for a caseExact=false string
 * sub-attribute, the folding the index uses.
 */
function elementPrefilter(elements: Elements, sub: string, s: Scalar, op: CompareOp, value: CompareValue): SQL | undefined {
  const index = elements.valuesIndex;
  if (!index || sub.toLowerCase() !== index.sub.toLowerCase() || s.kind !== 'string' || s.caseExact) return undefined;
  return isSubstringOp(op) && typeof value === 'string' ? valuesPrefilter(index, op, value) : undefined;
}

/**
 * `exact and prefilter`, where the prefilter is implied by `exact`: the same rows, found through
 * an index. Only in a positive position (under an even number of `not`): there the condition can
 * restrict the rows scanned; under `not` it would be a needless extra test. Sound either way,
 * since `exact` is two-valued and true only where the prefilter is true.
 */
function withPrefilter(exact: SQL, prefilter: SQL | undefined, at: Polarity): SQL {
  return at === 'positive' && prefilter ? sql`(${exact} and ${prefilter})` : exact;
}

/** `eq null` asks for "not present" and `ne null` for "present"; other operators refuse null in the parser. */
function compareOf(t: Target, op: CompareOp, value: CompareValue, at: Polarity): SQL {
  if (t.shape === 'absent') return compareAbsent(op, value);
  if (value === null) return op === 'eq' ? not(presentOf(t)) : presentOf(t);
  switch (t.shape) {
    case 'scalar':
      return compareScalar(t.scalar, op, value);
    case 'each':
      // Multi-valued: "the filter matches if any of the values … match" (RFC 7644 §3.4.2.2).
      return withPrefilter(t.elements.exists(compareScalar(t.scalar, op, value)), elementPrefilter(t.elements, t.sub, t.scalar, op, value), at);
    case 'object': {
      const v = valueOf(t);
      return withPrefilter(v.elements.exists(compareScalar(v.scalar, op, value)), elementPrefilter(v.elements, 'value', v.scalar, op, value), at);
    }
  }
}

/** Inside `attr[…]` names are sub-attributes of the element being tested. */
function elementResolver(elements: Elements): Resolve {
  return (path) => {
    if (path.schema !== undefined || path.subAttr !== undefined) {
      throw new AttrProblem(`inside '${elements.label}[…]' name a sub-attribute of ${elements.label}, e.g. ${elements.label}[value eq "…"]`);
    }
    return { shape: 'scalar', scalar: elements.sub(path.attr) };
  };
}

/**
 * A condition implied by "one element satisfies `node`", from what the values index can narrow:
 * under `and` any child's (all of them are ANDed), under `or` one per child (every child must
 * have one, else a match of a child without one would be lost), none under `not` or for `pr`.
 */
function impliedForElement(elements: Elements, node: FilterNode): SQL | undefined {
  switch (node.kind) {
    case 'compare':
      return node.path.schema === undefined && node.path.subAttr === undefined
        ? elementPrefilter(elements, node.path.attr, elements.sub(node.path.attr), node.op, node.value)
        : undefined;
    case 'and': {
      const parts = node.children.map((c) => impliedForElement(elements, c)).filter((c): c is SQL => c !== undefined);
      return parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : sql`(${sql.join(parts, sql` and `)})`;
    }
    case 'or': {
      const parts = node.children.map((c) => impliedForElement(elements, c));
      return parts.every((c): c is SQL => c !== undefined) ? sql`(${sql.join(parts, sql` or `)})` : undefined;
    }
    default:
      return undefined;
  }
}

/** `emails[type eq "work" and value co "@x"]`: one element must satisfy the whole inner filter. */
function valuePathOf(t: Target, filter: FilterNode, at: Polarity): SQL {
  if (t.shape === 'absent') return FALSE;
  if (t.shape !== 'object') throw new AttrProblem(`'${t.scalar.label}' is not multi-valued or complex, so '${t.scalar.label}[…]' does not apply`);
  if (!t.elements) throw new AttrProblem(`'${t.label}[…]' is not supported; compare ${t.label}.<sub-attribute> instead`);
  const elements = t.elements;
  // Inner paths are scalars of one element, which never carry a prefilter of their own.
  const exact = elements.exists(compileNode(filter, elementResolver(elements), 'off'));
  return withPrefilter(exact, at === 'positive' ? impliedForElement(elements, filter) : undefined, at);
}

function compileNode(node: FilterNode, resolve: Resolve, at: Polarity): SQL {
  switch (node.kind) {
    case 'and':
    case 'or':
      return sql`(${sql.join(node.children.map((c) => compileNode(c, resolve, at)), node.kind === 'and' ? sql` and ` : sql` or `)})`;
    case 'not':
      return not(compileNode(node.child, resolve, flip(at)));
    case 'present':
      return presentOf(resolve(node.path));
    case 'compare':
      return compareOf(resolve(node.path), node.op, node.value, at);
    case 'valuePath':
      return valuePathOf(resolve(node.path), node.filter, at);
  }
}

/** Resolves against one type, noting which top-level attributes that type lacks. */
function typeResolver(type: ResourceTypeName, absent: Map<string, Set<ResourceTypeName>>, view: MemberView | undefined): Resolve {
  return (path) => {
    const target = resolveAttr(type, path, view);
    if (target.shape === 'absent') absent.set(target.label, (absent.get(target.label) ?? new Set()).add(type));
    return target;
  };
}

/**
 * An attribute no queried type defines is 400 invalidFilter naming it. RFC 7644 §3.4.2.2
 * allows either reading it as "no value" or refusing it; refusing is chosen because a typo
 * (`userNmae eq "bjensen"`) would otherwise return an empty list that looks like "no such
 * user", and a provisioning client would then create a duplicate. In a root search an
 * attribute that only some types define is "no value" for the others (RFC 7644 §3.4.2.1).
 */
function checkKnown(absent: Map<string, Set<ResourceTypeName>>, types: readonly ResourceTypeName[]): void {
  for (const [label, missing] of absent) {
    if (missing.size === types.length) {
      throw badRequest('invalidFilter', `Unknown attribute '${label}' in filter: not an attribute of ${types.join(' or ')}`);
    }
  }
}

export const typeCondition = (types: readonly ResourceTypeName[]): SQL =>
  types.length === 1 ? sql`${resources.resourceType} = ${types[0]}` : sql`${resources.resourceType} in (${sql.join(types.map((t) => sql`${t}`), sql`, `)})`;

export interface CompileOptions {
  /**
   * Add the index prefilters of substring-index.ts (default true). They never change which rows
   * match; false leaves only the exact terms, for tests that prove it and for diagnosis.
   */
  readonly prefilter?: boolean;
  /** What `members.display` compares (member-view.ts); default: the display the client sent. */
  readonly memberView?: MemberView | undefined;
}

/**
 * The WHERE condition for `types` (one type for /Users or /Groups, both for a root search)
 * and an optional filter. Unsupported uses are 400 invalidFilter with a detail naming the
 * attribute (RFC 7644 §3.4.2.2, §3.12 Table 9).
 */
export function compileFilter(types: readonly ResourceTypeName[], filter: FilterNode | undefined, opts: CompileOptions = {}): SQL {
  if (!filter) return typeCondition(types);
  const absent = new Map<string, Set<ResourceTypeName>>();
  try {
    const parts = types.map((type) => sql`(${resources.resourceType} = ${type} and ${compileNode(filter, typeResolver(type, absent, opts.memberView), opts.prefilter === false ? 'off' : 'positive')})`);
    checkKnown(absent, types);
    return parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` or `)})`;
  } catch (e) {
    if (e instanceof AttrProblem) throw badRequest('invalidFilter', `Invalid filter: ${e.detail}`);
    throw e;
  }
}
