import { str, type AttributeDef } from '../schemas/attribute.js';
import { findAttribute, type ResourceTypeName } from '../schemas/registry.js';
import type { AttrPath, CompareOp, CompareValue, FilterNode } from './ast.js';
import { isObject } from '../../core/is-object.js';

/**
 * In-memory evaluation of a SCIM filter (RFC 7644 §3.4.2.2) against one JSON object: a whole
 * resource, or one value of a multi-valued attribute (a PATCH value filter such as
 * `emails[type eq "work"]`, RFC 7644 §3.5.2, where paths are relative to `parent`).
 *
 * The schema registry supplies each attribute's type and `caseExact` (RFC 7643 §2.2): strings
 * compare case-insensitively unless caseExact, dateTimes as instants, booleans and numbers as
 * such. An attribute the registry does not know never matches (no error: this is a matcher, the
 * parser already rejected malformed filters). A multi-valued attribute matches when any of its
 * values does (RFC 7644 §3.4.2.2 "only one has to match").
 */
export interface MatchOptions {
  type: ResourceTypeName;
  /** The multi-valued attribute whose single value is being matched (`'emails'`, `'members'`, or URN-qualified). */
  parent?: string;
}

type Obj = Record<string, unknown>;

/** `schemas` is not in any schema's attribute list but is filterable (RFC 7644 §3.4.2.2 Figure 2); URIs are case-insensitive (RFC 7643 §2.1). */
const SCHEMAS_DEF: AttributeDef = str('schemas', 'The schema URIs of the resource.', { multiValued: true });

export function matchesFilter(node: FilterNode, value: Obj, opts: MatchOptions): boolean {
  switch (node.kind) {
    case 'and':
      return node.children.every((c) => matchesFilter(c, value, opts));
    case 'or':
      return node.children.some((c) => matchesFilter(c, value, opts));
    case 'not':
      return !matchesFilter(node.child, value, opts);
    case 'present': {
      const found = valuesAt(node.path, value, opts);
      return found !== undefined && found.values.some(isPresent);
    }
    case 'compare': {
      const found = valuesAt(node.path, value, opts);
      return found !== undefined && compareAny(found.def, found.values, node.op, node.value);
    }
    case 'valuePath': {
      // `emails[type eq "work"]` inside a whole-resource filter: some value of the attribute
      // matches the inner filter. Value paths never nest (the parser forbids it).
      if (opts.parent !== undefined || node.path.subAttr !== undefined) return false;
      const found = valuesAt(node.path, value, opts);
      if (found === undefined || found.def.type !== 'complex') return false;
      const parent = qualified({ ...node.path, attr: found.def.name });
      return found.values.some((el) => isObject(el) && matchesFilter(node.filter, el, { type: opts.type, parent }));
    }
  }
}

/** RFC 7644 §3.4.2.2 `pr`: "has a non-empty value, or … contains a non-empty node". */
function isPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** Own key matching `name` case-insensitively (RFC 7643 §2.1), exact spelling first. */
function getCi(obj: Obj, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  const key = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : obj[key];
}

const flat = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

function qualified(p: AttrPath): string {
  const name = p.subAttr === undefined ? p.attr : `${p.attr}.${p.subAttr}`;
  return p.schema === undefined ? name : `${p.schema}:${name}`;
}

/** The attribute definition at `path` and every value found there (flattened over multi-valued levels). */
function valuesAt(path: AttrPath, value: Obj, opts: MatchOptions): { def: AttributeDef; values: unknown[] } | undefined {
  if (opts.parent !== undefined) {
    // Inside a value path every name is a sub-attribute of `parent` (RFC 7644 §3.4.2.2 valFilter).
    if (path.schema !== undefined || path.subAttr !== undefined) return undefined;
    const sub = findAttribute(opts.type, `${opts.parent}.${path.attr}`)?.sub;
    return sub === undefined ? undefined : { def: sub, values: flat(getCi(value, sub.name)) };
  }
  if (path.schema === undefined && path.subAttr === undefined && path.attr.toLowerCase() === 'schemas') {
    return { def: SCHEMAS_DEF, values: flat(getCi(value, 'schemas')) };
  }
  const found = findAttribute(opts.type, qualified(path));
  if (found === undefined) return undefined;
  const container = found.extension ? getCi(value, found.schema) : value;
  const top = isObject(container) ? flat(getCi(container, found.def.name)) : [];
  if (found.sub === undefined) return { def: found.def, values: top };
  const subName = found.sub.name;
  return { def: found.sub, values: top.flatMap((el) => (isObject(el) ? flat(getCi(el, subName)) : [])) };
}

function compareAny(def: AttributeDef, values: unknown[], op: CompareOp, operand: CompareValue): boolean {
  if (def.type === 'complex') {
    // `emails co "example.com"` (RFC 7644 §3.4.2.2 Figure 2): a complex attribute named without a
    // sub-attribute is compared through its `value` sub-attribute, when it has one.
    const valueSub = def.subAttributes?.find((s) => s.name === 'value');
    if (valueSub === undefined) return false;
    return compareAny(valueSub, values.flatMap((el) => (isObject(el) ? flat(getCi(el, 'value')) : [])), op, operand);
  }
  // `eq null` / `ne null` are read as "absent" / "present"; no other operator takes null.
  if (operand === null) return op === 'eq' ? !values.some(isPresent) : op === 'ne' ? values.some(isPresent) : false;
  // No value at all is "not identical" to any operand.
  if (values.length === 0) return op === 'ne';
  return values.some((v) => compareOne(def, v, op, operand));
}

function byOrder(op: CompareOp, c: number): boolean {
  switch (op) {
    case 'eq':
      return c === 0;
    case 'ne':
      return c !== 0;
    case 'gt':
      return c > 0;
    case 'ge':
      return c >= 0;
    case 'lt':
      return c < 0;
    case 'le':
      return c <= 0;
    default:
      return false;
  }
}

/** Substring operators on already-normalised strings; ordering operators lexicographically (RFC 7644 §3.4.2.2 Table 3). */
function compareText(a: string, op: CompareOp, b: string): boolean {
  if (op === 'co') return a.includes(b);
  if (op === 'sw') return a.startsWith(b);
  if (op === 'ew') return a.endsWith(b);
  return byOrder(op, a < b ? -1 : a > b ? 1 : 0);
}

function toBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  // A stored value cannot be a string here, but a PATCH value not yet coerced (Entra "True") can.
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  return undefined;
}

function compareOne(def: AttributeDef, actual: unknown, op: CompareOp, operand: string | number | boolean): boolean {
  switch (def.type) {
    case 'boolean': {
      // Booleans are only equal or not: ordering and substring operators never match.
      const a = toBoolean(actual);
      if (a === undefined || typeof operand !== 'boolean' || (op !== 'eq' && op !== 'ne')) return false;
      return op === 'eq' ? a === operand : a !== operand;
    }
    case 'integer':
    case 'decimal':
      if (typeof actual !== 'number' || typeof operand !== 'number' || op === 'co' || op === 'sw' || op === 'ew') return false;
      return byOrder(op, actual - operand);
    case 'dateTime': {
      if (typeof actual !== 'string' || typeof operand !== 'string') return false;
      if (op === 'co' || op === 'sw' || op === 'ew') return compareText(actual.toLowerCase(), op, operand.toLowerCase());
      // Instants, so "2011-05-13T04:42:34Z" equals "2011-05-13T06:42:34+02:00".
      const a = Date.parse(actual);
      const b = Date.parse(operand);
      return !Number.isNaN(a) && !Number.isNaN(b) && byOrder(op, a - b);
    }
    case 'complex':
      return false;
    default: {
      // string, reference, binary
      if (typeof actual !== 'string' || typeof operand !== 'string') return false;
      return def.caseExact ? compareText(actual, op, operand) : compareText(actual.toLowerCase(), op, operand.toLowerCase());
    }
  }
}
