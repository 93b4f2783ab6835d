import type { FilterNode } from '../filter/ast.js';
import type { AttributeDef, SchemaDef } from '../schemas/attribute.js';
import { findAttribute, RESOURCE_TYPES, type ResourceTypeName } from '../schemas/registry.js';
import { getCi, PATCH_OP_URN } from '../messages/patch-op.js';
import { parsePatchPath } from './path.js';
import { isObject } from '../../core/is-object.js';

/**
 * A PatchOp message without the values of attributes that are `returned: never` (RFC 7643 §2.2,
 * §7: `password` on Users), decided from the schema registry. prov:patch:full carries the PatchOp
 * as its `data` (RFC 9967 §2.4.2), and a SET is stored, pushed and polled: a value the service
 * provider never returns must not leave it that way either.
 *
 * What a redacted PatchOp looks like, and why:
 * - An operation whose target is a never-returned attribute (`password`, in any case, also
 *   URN-qualified, or a sub-attribute that is never returned) is dropped whole, `remove` too:
 *   a receiver's copy of the resource never holds such a value, so the operation means nothing
 *   to it, and a placeholder value would be worse than none (a receiver applying
 *   `replace password "[redacted]"` would set that password).
 * - A path-less value (RFC 7644 §3.5.2.1, §3.5.2.3), an extension object (a bare extension URN
 *   as path) and a complex value lose their never-returned members. An operation whose value
 *   object is left empty set nothing else, and is dropped.
 * - Every other operation is kept as the engine read it: `op`, `path` and `value`, looked up
 *   case-insensitively as the engine does (apply.ts). Members the engine ignores (an extra
 *   top-level member, a second spelling of `value`, a key naming no attribute) are not copied:
 *   they were not applied, and anything could be in them.
 * - The result is a valid PatchOp: `schemas` and at least one operation (RFC 7644 §3.5.2). When
 *   no operation remains (a PATCH of the password alone) there is none, and this returns
 *   undefined: the caller sends no prov:patch:full for that change. The change stays visible
 *   to prov:patch:notice, whose `attributes` names `password` without its value.
 */
export function redactPatchOp(type: ResourceTypeName, message: unknown): { schemas: string[]; Operations: Obj[] } | undefined {
  if (!isObject(message)) return undefined;
  const operations = getCi(message, 'Operations');
  if (!Array.isArray(operations)) return undefined;
  const kept = operations.map((o) => redactOperation(type, o)).filter((o): o is Obj => o !== undefined);
  return kept.length === 0 ? undefined : { schemas: [PATCH_OP_URN], Operations: kept };
}

type Obj = Record<string, unknown>;

const ciEq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const emptied = (before: unknown, after: unknown) => isObject(before) && Object.keys(before).length > 0 && isObject(after) && Object.keys(after).length === 0;

/** RFC 7643 §2.2: `returned: never` — the value never leaves the service provider. */
const isNever = (def: AttributeDef | undefined): boolean => def?.returned === 'never';

/** One operation without never-returned values, or undefined when nothing of it may be told. */
function redactOperation(type: ResourceTypeName, operation: unknown): Obj | undefined {
  if (!isObject(operation)) return undefined;
  const path = getCi(operation, 'path');
  const value = getCi(operation, 'value');
  if (typeof path === 'string') return redactTargeted(type, getCi(operation, 'op'), path, value);
  // No path: the value is an object of attributes (a path-less `remove` is refused by the engine).
  if (!isObject(value)) return undefined;
  const kept = pathlessWithoutNever(type, value);
  return Object.keys(kept).length === 0 ? undefined : { op: getCi(operation, 'op'), value: kept };
}

/** An operation with a path: dropped when the target is never returned, else its value redacted. */
function redactTargeted(type: ResourceTypeName, op: unknown, path: string, value: unknown): Obj | undefined {
  const target = resolveTarget(type, path);
  if (target === undefined || targetsNever(target)) return undefined;
  if (value === undefined) return { op, path };
  const kept = target.kind === 'extension' ? extensionWithoutNever(target.ext, value) : target.sub ? value : complexWithoutNever(target.def, value);
  return emptied(value, kept) ? undefined : { op, path, value: kept };
}

type Target =
  | { kind: 'extension'; ext: SchemaDef }
  | { kind: 'attribute'; def: AttributeDef; sub: AttributeDef | undefined; filter: FilterNode | undefined };

/**
 * What a PATCH path names, resolved as the engine resolves it (RFC 7644 §3.5.2 Figure 7, §3.10:
 * case-insensitive, optionally URN-qualified). Undefined for a path that names nothing known:
 * such an operation was not applied, and it is not copied (fail closed).
 */
function resolveTarget(type: ResourceTypeName, text: string): Target | undefined {
  let pp: ReturnType<typeof parsePatchPath>;
  try {
    pp = parsePatchPath(text);
  } catch {
    return undefined;
  }
  const rt = RESOURCE_TYPES[type];
  const { schema, attr } = pp.path;
  if (attr === '') {
    const ext = rt.extensions.find((s) => ciEq(s.id, schema ?? ''));
    return ext ? { kind: 'extension', ext } : undefined;
  }
  const found = findAttribute(type, schema === undefined ? attr : `${schema}:${attr}`);
  if (!found) return undefined;
  const subName = pp.path.subAttr ?? pp.subAttr;
  const sub = subName === undefined ? undefined : found.def.subAttributes?.find((s) => ciEq(s.name, subName));
  if (subName !== undefined && !sub) return undefined;
  return { kind: 'attribute', def: found.def, sub, filter: pp.filter };
}

/** The target is a never-returned attribute or sub-attribute, or its value filter compares one (the literal is the secret). */
function targetsNever(t: Target): boolean {
  if (t.kind === 'extension') return false;
  return isNever(t.def) || isNever(t.sub) || (t.filter !== undefined && filterReadsNever(t.def, t.filter));
}

/** Whether a value filter (`emails[type eq "work"]`, paths relative to the attribute) reads a never-returned sub-attribute. */
function filterReadsNever(def: AttributeDef, node: FilterNode): boolean {
  switch (node.kind) {
    case 'compare':
    case 'present':
      return isNever(def.subAttributes?.find((s) => ciEq(s.name, node.path.attr)));
    case 'and':
    case 'or':
      return node.children.some((c) => filterReadsNever(def, c));
    case 'not':
      return filterReadsNever(def, node.child);
    case 'valuePath':
      // The parser never nests value paths; should one appear, nothing in it is trusted.
      return true;
  }
}

/**
 * A path-less value: attribute names, extension URNs and, with the Entra/Okta compatibility,
 * paths (`name.givenName`, `urn:…:User:password`) as keys. Each key is resolved as a path; keys
 * that name a never-returned attribute, or nothing known (`schemas`, which the engine skips, too),
 * are left out.
 */
function pathlessWithoutNever(type: ResourceTypeName, value: Obj): Obj {
  const out: Obj = {};
  for (const [key, v] of Object.entries(value)) {
    const target = resolveTarget(type, key);
    if (target === undefined || targetsNever(target)) continue;
    const kept = target.kind === 'extension' ? extensionWithoutNever(target.ext, v) : target.sub ? v : complexWithoutNever(target.def, v);
    if (!emptied(v, kept)) out[key] = kept;
  }
  return out;
}

/** An extension object without its never-returned attributes (and without keys it does not define). */
function extensionWithoutNever(ext: SchemaDef, value: unknown): unknown {
  if (!isObject(value)) return value;
  const out: Obj = {};
  for (const [key, v] of Object.entries(value)) {
    const def = ext.attributes.find((a) => ciEq(a.name, key));
    if (def === undefined || isNever(def)) continue;
    const kept = complexWithoutNever(def, v);
    if (!emptied(v, kept)) out[key] = kept;
  }
  return out;
}

/** A complex value (or each value of a multi-valued one) without never-returned sub-attributes or unknown keys. */
function complexWithoutNever(def: AttributeDef, value: unknown): unknown {
  if (def.type !== 'complex') return value;
  const keep = (k: string) => {
    const sub = def.subAttributes?.find((s) => ciEq(s.name, k));
    return sub !== undefined && !isNever(sub);
  };
  const one = (x: unknown) => (isObject(x) ? Object.fromEntries(Object.entries(x).filter(([k]) => keep(k))) : x);
  return Array.isArray(value) ? value.map(one) : one(value);
}
