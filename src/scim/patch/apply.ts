import { badRequest, ScimError } from '../../core/errors.js';
import type { FilterNode } from '../filter/ast.js';
import { matchesFilter } from '../filter/evaluate.js';
import { stringifyFilter } from '../filter/stringify.js';
import type { AttributeDef, SchemaDef } from '../schemas/attribute.js';
import { ENTERPRISE_USER_URN, findAttribute, RESOURCE_TYPES, type ResourceTypeName } from '../schemas/registry.js';
import { parsePatchPath, type PatchPath } from './path.js';
import { isObject } from '../../core/is-object.js';
import { getCi, parsePatchOp, patchOpName, type PatchOpName } from '../messages/patch-op.js';

/**
 * The SCIM PATCH engine (RFC 7644 §3.5.2): stored document + PatchOp message → new document,
 * Group member operations and the list of changed attributes. Pure: no I/O, no clock.
 *
 * It only moves values around. Type checks, required and immutable attributes, string-boolean
 * coercion and final canonicalisation are left to parseResourceInput, which the caller runs on
 * the result; this engine guarantees the *shape* (where each value lands) and the PATCH-specific
 * errors: invalidSyntax (message), invalidPath (unknown target), mutability (readOnly target),
 * noTarget (a value filter that selects nothing).
 *
 * Group `members` are not in the stored document (they live in their own table, so a PATCH on a
 * 100,000-member group never loads them): member operations come back as a MemberPatch.
 */

export { getCi, PATCH_OP_URN } from '../messages/patch-op.js';

/** Request shapes real IdPs send that RFC 7644 does not allow; each one is opt-in. */
export interface PatchCompat {
  /** Entra: "Add" / "Replace" / "Remove" accepted. */
  opCase: boolean;
  /** Entra: {op:remove, path:"members", value:[{value:id},…]} removes exactly those members. Strict: 400 invalidSyntax (never silently empty a group). */
  memberValueRemove: boolean;
  /** Entra: path "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager" with a bare string value → manager {value: string}. */
  managerString: boolean;
  /** Entra/Okta: path-less replace/add whose value has keys like "name.givenName" or "urn:…:enterprise:2.0:User:department" → treated as paths. */
  dottedKeys: boolean;
  /** Entra: replace/add on emails[type eq "work"].value (or addresses[type eq "work"].locality …) when no element matches → a new element is created from the eq terms of the filter plus the sub-attribute. Strict: 400 noTarget. */
  absentMultiValueFilter: boolean;
  /**
   * `remove` of `members[value eq "<id>"]` naming no member: 204, nothing changed (the default:
   * IdPs retry removals). false (SCIMCAST_STRICT): 400 noTarget, as RFC 7644 §3.5.2 ("noTarget …
   * the specified "path" value contains a filter that yields no match") and §3.12 Table 9 say.
   */
  idempotentMemberRemove?: boolean;
}

/**
 * Member operations, already folded so that applying them in this order gives the result of
 * the PATCH operations applied one by one:
 * 1. `replaceWith` defined → membership := replaceWith; else `removeAll` → membership := [].
 * 2. remove the ids in `remove`;
 * 3. remove the members matching any `removeWhere` filter (the caller evaluates them on the
 *    member list, with matchesFilter and `parent: 'members'`);
 * 4. add the ids in `add`.
 * `members[value eq "x"]` (and `or`s of such terms) become plain ids in `remove`. A `removeWhere`
 * filter is applied before `add`, so it never removes an id added by an earlier operation of
 * the same PATCH (the engine cannot evaluate it: it does not know the members' display or type).
 */
export interface MemberPatch {
  add: string[];
  remove: string[];
  removeAll: boolean;
  replaceWith?: string[];
  removeWhere: FilterNode[];
  /**
   * The `display` sent with an id of `add` or `replaceWith` (the first one sent for it), kept as
   * sent (RFC 7643 §4.2); ids sent without one are absent. Undefined when none was sent.
   */
  displays?: Map<string, string>;
  /**
   * Without idempotentMemberRemove only: each entry is a `members[value eq …]` removal whose ids
   * the PATCH itself does not settle; at least one of them must be a member before the PATCH,
   * else the caller answers 400 noTarget with `path`.
   */
  mustMatch?: { ids: string[]; path: string }[];
}

export interface PatchResult {
  /** The new stored document (same shape as the input doc). */
  doc: Record<string, unknown>;
  /** Group only; empty otherwise. */
  members: MemberPatch;
  /** Changed top-level attributes, URN-qualified for extension attributes (RFC 9967 event `attributes`). */
  attributes: string[];
}

type Obj = Record<string, unknown>;
type Op = PatchOpName;

/** A resolved target: one attribute (core, common or extension), possibly narrowed. */
interface Target {
  ext: SchemaDef | undefined;
  def: AttributeDef;
  /** From `name.givenName` or from `emails[…].value`. */
  sub: AttributeDef | undefined;
  filter: FilterNode | undefined;
  /** `emails` or `urn:…:User:manager`: messages, the `attributes` list, the evaluator's `parent`. */
  name: string;
}

interface State {
  type: ResourceTypeName;
  compat: PatchCompat;
  doc: Obj;
  members: MemberPatch;
  /** Attribute name → [extension URN or undefined, attribute name], in the order first touched. */
  touched: Map<string, [string | undefined, string]>;
  /** Extensions written to: their URN in `schemas` follows whether they hold data. */
  extensions: Set<SchemaDef>;
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const ciEq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function applyPatch(type: ResourceTypeName, doc: Record<string, unknown>, body: unknown, compat: PatchCompat): PatchResult {
  const operations = parsePatchOp(body);
  const st: State = {
    type,
    compat,
    doc: structuredClone(doc),
    members: { add: [], remove: [], removeAll: false, removeWhere: [] },
    touched: new Map(),
    extensions: new Set(),
  };
  // RFC 7644 §3.5.2: operations apply in order, and the PATCH is atomic (any failure fails all).
  operations.forEach((operation, i) => {
    try {
      applyOperation(st, operation);
    } catch (e) {
      if (e instanceof ScimError) throw new ScimError(e.status, e.scimType, `Operations[${i}]: ${e.detail}`, { cause: e });
      throw e;
    }
  });
  settleExtensions(st);
  return { doc: st.doc, members: st.members, attributes: changedAttributes(st, doc) };
}

// ---------------------------------------------------------------------------------------------
// One operation of the message (parsed in scim/messages/patch-op.ts)

function applyOperation(st: State, operation: Obj): void {
  const op = patchOpName(getCi(operation, 'op'), st.compat.opCase);
  const rawPath = getCi(operation, 'path');
  // JSON has no undefined, so "value" absent and "value" given are told apart by undefined.
  const value: unknown = structuredClone(getCi(operation, 'value'));
  if (rawPath !== undefined && rawPath !== null && typeof rawPath !== 'string') throw badRequest('invalidPath', '"path" must be a string');
  if (op !== 'remove' && value === undefined) throw badRequest('invalidSyntax', `"${op}" requires a "value" (RFC 7644 §3.5.2.1, §3.5.2.3)`);
  if (typeof rawPath === 'string') return applyPath(st, op, parsePatchPath(rawPath), value);
  if (op === 'remove') throw badRequest('noTarget', '"remove" requires a "path" (RFC 7644 §3.5.2.2)');
  applyPathless(st, op, value);
}

// ---------------------------------------------------------------------------------------------
// Resolving targets

function applyPath(st: State, op: Op, pp: PatchPath, value: unknown): void {
  if (pp.path.attr === '') return applyExtension(st, op, bareExtension(st.type, pp.path.schema ?? ''), value);
  const t = resolveTarget(st.type, pp);
  if (!isMembers(st, t)) {
    // RFC 7644 §3.5.2: an operation must be compatible with the target's mutability.
    if (t.def.mutability === 'readOnly') throw badRequest('mutability', `"${t.name}" is readOnly and cannot be modified`);
    if (t.sub?.mutability === 'readOnly') throw badRequest('mutability', `"${t.name}.${t.sub.name}" is readOnly and cannot be modified`);
  }
  applyTarget(st, op, t, value);
}

function applyTarget(st: State, op: Op, t: Target, value: unknown): void {
  if (isMembers(st, t)) return memberOp(st, op, t, value);
  st.touched.set(t.name, [t.ext?.id, t.def.name]);
  if (t.ext) st.extensions.add(t.ext);
  if (op === 'remove') removeAt(st, t, value);
  else write(st, op, t, value);
}

const isMembers = (st: State, t: Target) => st.type === 'Group' && t.ext === undefined && t.def.name === 'members';

/** A schema URN alone as path: the whole extension object (RFC 7644 §3.5.2, path.ts). */
function bareExtension(type: ResourceTypeName, urn: string): SchemaDef {
  const rt = RESOURCE_TYPES[type];
  const ext = rt.extensions.find((s) => ciEq(s.id, urn));
  if (ext) return ext;
  if (ciEq(rt.schema.id, urn)) throw badRequest('invalidPath', `the core schema URN "${urn}" alone is not a target; omit "path" to patch the resource's attributes`);
  throw badRequest('invalidPath', `"${urn}" is not a schema of ${type} resources`);
}

function resolveTarget(type: ResourceTypeName, pp: PatchPath): Target {
  const rt = RESOURCE_TYPES[type];
  const { schema, attr } = pp.path;
  if (schema !== undefined && ![rt.schema, ...rt.extensions].some((s) => ciEq(s.id, schema))) {
    throw badRequest('invalidPath', `"${schema}" is not a schema of ${type} resources`);
  }
  const written = schema === undefined ? attr : `${schema}:${attr}`;
  const found = findAttribute(type, written);
  if (!found) throw badRequest('invalidPath', `"${written}" is not an attribute of ${type} resources`);
  const ext = found.extension ? rt.extensions.find((s) => s.id === found.schema) : undefined;
  const name = ext ? `${ext.id}:${found.def.name}` : found.def.name;
  // A path has at most one sub-attribute: `name.givenName` or `emails[…].value` (path.ts).
  const subName = pp.path.subAttr ?? pp.subAttr;
  const sub = subName === undefined ? undefined : found.def.subAttributes?.find((s) => ciEq(s.name, subName));
  if (subName !== undefined && !sub) throw badRequest('invalidPath', `"${subName}" is not a sub-attribute of "${name}"`);
  if (pp.filter && !found.def.multiValued) throw badRequest('invalidPath', `a value filter "[…]" selects values of a multi-valued attribute; "${name}" is single-valued`);
  return { ext, def: found.def, sub, filter: pp.filter, name };
}

/**
 * No path: "value" is an object of attributes, each applied as if it were the path
 * (RFC 7644 §3.5.2.1, §3.5.2.3). readOnly keys are ignored, as in a PUT body (RFC 7644 §3.5.1),
 * because clients send back what they read (Okta: `{"id": …, "displayName": …}`).
 */
function applyPathless(st: State, op: Op, value: unknown): void {
  if (!isObject(value)) throw badRequest('invalidValue', `"${op}" without a "path" needs a JSON object of attributes as its "value" (RFC 7644 §3.5.2.1)`);
  const rt = RESOURCE_TYPES[st.type];
  for (const [key, v] of Object.entries(value)) {
    if (FORBIDDEN.has(key) || ciEq(key, 'schemas')) continue;
    const ext = rt.extensions.find((s) => ciEq(s.id, key));
    if (ext) {
      applyExtension(st, op, ext, v);
      continue;
    }
    if (!/[.:[\]\s]/.test(key)) {
      const found = findAttribute(st.type, key);
      if (!found) throw badRequest('invalidPath', `"${key}" is not an attribute of ${st.type} resources`);
      if (found.def.mutability === 'readOnly') continue;
      applyTarget(st, op, { ext: undefined, def: found.def, sub: undefined, filter: undefined, name: found.def.name }, v);
      continue;
    }
    // `"name.givenName": "Jo"`, `"urn:…:User:department": "Ops"`: a path where an attribute name belongs.
    if (!st.compat.dottedKeys) {
      throw badRequest('invalidPath', `"${key}" is a path, not an attribute name; a path-less "${op}" takes attribute names as keys (RFC 7644 §3.5.2.1)`);
    }
    applyPath(st, op, parsePatchPath(key), v);
  }
}

/**
 * The whole extension object (bare URN as path, or URN key in a path-less value): remove
 * deletes it; add and replace set the attributes given and keep the others, as for any complex
 * attribute (RFC 7644 §3.5.2.1, §3.5.2.3).
 */
function applyExtension(st: State, op: Op, ext: SchemaDef, value: unknown): void {
  st.extensions.add(ext);
  for (const a of ext.attributes) st.touched.set(`${ext.id}:${a.name}`, [ext.id, a.name]);
  if (op === 'remove' || value === null) {
    delCi(st.doc, ext.id);
    return;
  }
  if (!isObject(value)) throw badRequest('invalidValue', `"${ext.id}" must be a JSON object of its attributes`);
  for (const [key, v] of Object.entries(value)) {
    // Clients build the value from the resource they read, `schemas` included. It is no attribute
    // of the extension (RFC 7643 §3: it belongs to the resource), and the resource's `schemas`
    // follows which extensions hold data (settleExtensions), so it is ignored as in a path-less value.
    if (FORBIDDEN.has(key) || ciEq(key, 'schemas')) continue;
    const def = ext.attributes.find((a) => ciEq(a.name, key));
    if (!def) throw badRequest('invalidPath', `"${key}" is not an attribute of ${ext.id}`);
    if (def.mutability === 'readOnly') continue;
    write(st, op, { ext, def, sub: undefined, filter: undefined, name: `${ext.id}:${def.name}` }, v);
  }
}

/** Where the attribute lives: the document itself, or the extension object under its URN. */
function container(st: State, ext: SchemaDef | undefined, create: boolean): Obj | undefined {
  if (!ext) return st.doc;
  const current = getCi(st.doc, ext.id);
  if (isObject(current)) return current;
  if (!create) return undefined;
  const fresh: Obj = {};
  st.doc[ext.id] = fresh;
  return fresh;
}

// ---------------------------------------------------------------------------------------------
// add / replace (RFC 7644 §3.5.2.1, §3.5.2.3). null is "unassigned" (RFC 7643 §2.5): it clears.

function write(st: State, op: 'add' | 'replace', t: Target, raw: unknown): void {
  const c = container(st, t.ext, true)!;
  const { def, sub } = t;
  if (t.filter) return writeFiltered(st, op, t, c, raw);
  if (!def.multiValued) {
    if (sub) {
      const obj = asObject(getCi(c, def.name));
      setCi(obj, sub.name, raw);
      return putOrDelete(c, def.name, obj);
    }
    if (def.type !== 'complex') return setCi(c, def.name, raw);
    const value = managerShorthand(st, t, raw);
    if (value === null) return delCi(c, def.name);
    if (!isObject(value)) throw badRequest('invalidValue', `"${t.name}" is a complex attribute: its value must be a JSON object of sub-attributes`);
    // Both add and replace set the sub-attributes given and leave the others (RFC 7644 §3.5.2.3).
    const obj = asObject(getCi(c, def.name));
    for (const [k, v] of Object.entries(canonObject(def, value))) setCi(obj, k, v);
    return putOrDelete(c, def.name, obj);
  }
  const current = asArray(getCi(c, def.name));
  if (sub) {
    // `emails.display` without a filter addresses every value; with no values yet it creates one.
    if (current.length === 0) return putOrDelete(c, def.name, raw === null ? [] : [{ [sub.name]: raw }]);
    for (const el of current) if (isObject(el)) setCi(el, sub.name, raw);
    return putOrDelete(c, def.name, dropEmpty(current));
  }
  const items = canonItems(def, raw);
  // replace: the new values are the attribute (RFC 7644 §3.5.2.3 "replaced").
  if (op === 'replace') return putOrDelete(c, def.name, items);
  // add: new values are appended; one equal to a present value is not added again (§3.5.2.1).
  // Compared by canonical text, each value serialised once: pairwise `same` was quadratic, and a
  // PATCH within the body limit can carry tens of thousands of values.
  const seen = new Set(current.map(stableJson));
  const added = items.filter((x) => {
    const key = stableJson(x);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  putOrDelete(c, def.name, settlePrimary([...current, ...added], added));
}

/** `emails[type eq "work"]` / `emails[type eq "work"].value` as add/replace target. */
function writeFiltered(st: State, op: 'add' | 'replace', t: Target, c: Obj, raw: unknown): void {
  const current = asArray(getCi(c, t.def.name));
  const hits = current.filter((el) => isObject(el) && matchesFilter(t.filter!, el, { type: st.type, parent: t.name })) as Obj[];
  if (hits.length === 0) return createFromFilter(st, t, c, current, raw);
  // Membership by set: a value filter may select 100,000s of values, and includes() per value
  // of the attribute was quadratic.
  const hit = new Set<unknown>(hits);
  let next = current;
  let fresh: unknown[] = hits;
  if (t.sub) {
    for (const el of hits) setCi(el, t.sub.name, raw);
  } else if (raw === null) {
    next = current.filter((el) => !hit.has(el));
  } else {
    if (!isObject(raw)) throw badRequest('invalidValue', `a value of "${t.name}" must be a JSON object of sub-attributes`);
    const value = canonObject(t.def, raw);
    if (op === 'add') {
      // add merges into each selected value, like add on a complex attribute.
      for (const el of hits) for (const [k, v] of Object.entries(value)) setCi(el, k, v);
    } else {
      // "all matching record values SHALL be replaced" (RFC 7644 §3.5.2.3): each one entirely.
      fresh = [];
      next = current.map((el) => {
        if (!hit.has(el)) return el;
        const replacement = stripNulls(structuredClone(value));
        fresh.push(replacement);
        return replacement;
      });
    }
  }
  putOrDelete(c, t.def.name, settlePrimary(dropEmpty(next), fresh));
}

/**
 * Nothing matches the value filter. RFC 7644 §3.5.2 answers 400 noTarget. Entra ID instead
 * expects `emails[type eq "work"].value` to create the work email, so with absentMultiValueFilter
 * a new value is built from the filter's `eq` terms (only when the filter is nothing but `eq`
 * terms joined by `and`, so the new value is exactly what the filter describes).
 */
function createFromFilter(st: State, t: Target, c: Obj, current: unknown[], raw: unknown): void {
  const where = `no value of "${t.name}" matches [${stringifyFilter(t.filter!)}]`;
  if (!st.compat.absentMultiValueFilter) throw badRequest('noTarget', `${where} (RFC 7644 §3.5.2)`);
  if (raw === null) return;
  const seed = seedOf(t.def, t.filter!);
  if (!seed) throw badRequest('noTarget', `${where}, and a new value can be created only from "eq" terms joined by "and"`);
  let el: Obj = seed;
  if (t.sub) setCi(el, t.sub.name, raw);
  else if (isObject(raw)) el = { ...seed, ...stripNulls(canonObject(t.def, raw)) };
  else throw badRequest('invalidValue', `a value of "${t.name}" must be a JSON object of sub-attributes`);
  putOrDelete(c, t.def.name, settlePrimary([...current, el], [el]));
}

function seedOf(def: AttributeDef, node: FilterNode): Obj | undefined {
  const terms = node.kind === 'and' ? node.children : [node];
  const seed: Obj = {};
  for (const term of terms) {
    if (term.kind !== 'compare' || term.op !== 'eq' || term.value === null || term.path.schema !== undefined || term.path.subAttr !== undefined) return undefined;
    const sub = def.subAttributes?.find((s) => ciEq(s.name, term.path.attr));
    if (!sub || sub.mutability === 'readOnly') return undefined;
    seed[sub.name] = term.value;
  }
  return seed;
}

/** Entra ID sends the manager's id alone: `"value": "26118915-…"` for `…:User:manager`. */
function managerShorthand(st: State, t: Target, raw: unknown): unknown {
  const isManager = t.ext?.id === ENTERPRISE_USER_URN && t.def.name === 'manager';
  return isManager && st.compat.managerString && typeof raw === 'string' ? { value: raw } : raw;
}

/**
 * RFC 7643 §2.4: at most one value has `primary: true`. A value added or replaced with primary
 * true takes it over from the others. (Two new primaries in one value are left for
 * parseResourceInput to reject.) "True" counts: Entra's string booleans are coerced later.
 */
function settlePrimary(list: unknown[], fresh: readonly unknown[]): unknown[] {
  const isPrimary = (x: unknown) => {
    const p = isObject(x) ? getCi(x, 'primary') : undefined;
    return p === true || (typeof p === 'string' && ciEq(p, 'true'));
  };
  if (!fresh.some(isPrimary)) return list;
  const isFresh = new Set(fresh);
  for (const el of list) if (isObject(el) && !isFresh.has(el) && isPrimary(el)) delCi(el, 'primary');
  return list;
}

// ---------------------------------------------------------------------------------------------
// remove (RFC 7644 §3.5.2.2)

function removeAt(st: State, t: Target, raw: unknown): void {
  const c = container(st, t.ext, false);
  const current = c === undefined ? undefined : getCi(c, t.def.name);
  const { def, sub } = t;
  if (!t.filter) {
    if (def.multiValued && !sub && raw !== undefined && raw !== null) return removeValues(st, t, c, current, raw);
    // Removing an unassigned attribute changes nothing; it is not an error.
    if (c === undefined || current === undefined) return;
    if (!sub) return delCi(c, def.name);
    if (!def.multiValued) {
      if (isObject(current)) delCi(current, sub.name);
      return putOrDelete(c, def.name, current);
    }
    const list = asArray(current);
    for (const el of list) if (isObject(el)) delCi(el, sub.name);
    return putOrDelete(c, def.name, dropEmpty(list));
  }
  const list = asArray(current);
  const hits = list.filter((el) => isObject(el) && matchesFilter(t.filter!, el, { type: st.type, parent: t.name }));
  if (hits.length === 0) throw badRequest('noTarget', `no value of "${t.name}" matches [${stringifyFilter(t.filter)}] (RFC 7644 §3.5.2.2)`);
  if (!sub) {
    const hit = new Set<unknown>(hits);
    return putOrDelete(c!, def.name, list.filter((el) => !hit.has(el)));
  }
  for (const el of hits) delCi(el as Obj, sub.name);
  putOrDelete(c!, def.name, dropEmpty(list));
}

/**
 * `remove` carries no value in RFC 7644; with one on a multi-valued attribute the client means
 * "these values", never "all values". Strict: 400. With memberValueRemove (the Entra shape, also
 * accepted on other multi-valued attributes) each given value removes the values it is a
 * subset of (`{value: "x"}` removes `{value: "x", type: "work"}`).
 */
function removeValues(st: State, t: Target, c: Obj | undefined, current: unknown, raw: unknown): void {
  if (!st.compat.memberValueRemove) {
    throw badRequest('invalidSyntax', `"remove" takes no "value"; to remove some values of "${t.name}" use a value filter such as ${t.name}[value eq "…"] (RFC 7644 §3.5.2.2)`);
  }
  if (c === undefined || current === undefined) return;
  const given = canonItems(t.def, raw).filter((g) => !isObject(g) || Object.keys(g).length > 0);
  const covers = (g: unknown, el: unknown) => (isObject(g) && isObject(el) ? Object.entries(g).every(([k, v]) => same(getCi(el, k), v)) : same(g, el));
  putOrDelete(c, t.def.name, asArray(current).filter((el) => !given.some((g) => covers(g, el))));
}

// ---------------------------------------------------------------------------------------------
// Group members → MemberPatch (never the document)

function memberOp(st: State, op: Op, t: Target, raw: unknown): void {
  st.touched.set('members', [undefined, 'members']);
  const m = st.members;
  if (t.sub) {
    throw badRequest('mutability', `"members.${t.sub.name}" cannot be modified: a member's sub-attributes are immutable (RFC 7643 §4.2); add or remove the member instead`);
  }
  if (t.filter) {
    if (op !== 'remove') throw badRequest('mutability', `members cannot be changed through a value filter (member values are immutable, RFC 7643 §4.2); use "add" or "remove" on "members"`);
    const ids = valueEqIds(t.filter);
    if (ids && st.compat.idempotentMemberRemove === false) expectMember(m, ids, `members[${stringifyFilter(t.filter)}]`);
    if (ids) removeMembers(m, ids);
    else m.removeWhere.push(t.filter);
    return;
  }
  if (op === 'add') {
    const ids = memberIds(raw);
    keepDisplays(m, raw, new Set([...m.add, ...(m.replaceWith ?? [])]));
    addMembers(m, ids);
  } else if (op === 'replace') {
    Object.assign(m, { add: [], remove: [], removeAll: false, removeWhere: [], replaceWith: memberIds(raw) });
    delete m.displays;
    keepDisplays(m, raw, new Set());
  } else if (raw === undefined || raw === null) {
    Object.assign(m, { add: [], remove: [], removeAll: true, removeWhere: [] });
    delete m.replaceWith;
    delete m.displays;
  } else if (st.compat.memberValueRemove) {
    removeMembers(m, memberIds(raw));
  } else {
    throw badRequest('invalidSyntax', '"remove" on "members" takes no "value" (RFC 7644 §3.5.2.2), and would remove every member; to remove some, use path members[value eq "<id>"]');
  }
}

/**
 * Strict removal by `members[value eq …]`: the filter must select a member. Members added (or set
 * by a replace) earlier in this PATCH match; ids removed earlier do not; after a replace or a
 * remove-all the membership is known here; otherwise the stored membership decides (mustMatch).
 */
function expectMember(m: MemberPatch, ids: string[], path: string): void {
  if (ids.some((id) => m.add.includes(id) || m.replaceWith?.includes(id) === true)) return;
  const open = m.replaceWith !== undefined || m.removeAll ? [] : ids.filter((id) => !m.remove.includes(id));
  if (open.length === 0) throw badRequest('noTarget', `${path} matches no member (RFC 7644 §3.5.2.2)`);
  (m.mustMatch ??= []).push({ ids: open, path });
}

/**
 * Ids added by one operation, in order, once each; an id removed earlier in this PATCH is no
 * longer removed. Whole lists at a time with sets: one operation may name 100,000s of members,
 * and an `includes` per id was quadratic.
 */
function addMembers(m: MemberPatch, ids: readonly string[]): void {
  const adding = new Set(ids);
  m.remove = m.remove.filter((x) => !adding.has(x));
  const listed = new Set([...m.add, ...(m.replaceWith ?? [])]);
  for (const id of ids) {
    if (listed.has(id)) continue;
    listed.add(id);
    m.add.push(id);
  }
}

/** Ids removed by one operation: no longer added; after a replace, out of the new list. */
function removeMembers(m: MemberPatch, ids: readonly string[]): void {
  const removing = new Set(ids);
  m.add = m.add.filter((x) => !removing.has(x));
  // Added again later in this PATCH, a member takes the display sent then.
  if (m.displays) for (const id of ids) m.displays.delete(id);
  if (m.replaceWith) {
    m.replaceWith = m.replaceWith.filter((x) => !removing.has(x));
    return;
  }
  if (m.removeAll) return;
  const listed = new Set(m.remove);
  for (const id of ids) {
    if (listed.has(id)) continue;
    listed.add(id);
    m.remove.push(id);
  }
}

/**
 * The `display` sent with each member of an add or replace value, for ids not already listed
 * (`listed`: the first one added keeps its display). `$ref` and `type` are derived by the server
 * and not kept. memberIds has checked the shape already.
 */
function keepDisplays(m: MemberPatch, raw: unknown, listed: ReadonlySet<string>): void {
  if (raw === null || raw === undefined) return;
  (Array.isArray(raw) ? raw : [raw]).forEach((x, i) => {
    const id = getCi(x as Obj, 'value') as string;
    const display = getCi(x as Obj, 'display');
    if (display === undefined || display === null) return;
    if (typeof display !== 'string') throw badRequest('invalidValue', `members[${i}].display must be a string`);
    // Listed: added earlier in this PATCH, with its display then. Has: an earlier duplicate of this value.
    if (listed.has(id) || m.displays?.has(id)) return;
    (m.displays ??= new Map()).set(id, display);
  });
}

/** `[{value: id, display?, $ref?, type?}, …]` (a single object is accepted) → ids, in order, once each. */
function memberIds(raw: unknown): string[] {
  if (raw === null || raw === undefined) return [];
  const ids = new Set<string>();
  (Array.isArray(raw) ? raw : [raw]).forEach((x, i) => {
    const id = isObject(x) ? getCi(x, 'value') : undefined;
    if (typeof id !== 'string' || id === '') throw badRequest('invalidValue', `members[${i}] must be an object whose "value" is the member's id (a non-empty string)`);
    ids.add(id);
  });
  return [...ids];
}

/** `value eq "a"` or `value eq "a" or value eq "b"` → ['a', 'b']; any other filter → undefined. */
function valueEqIds(node: FilterNode): string[] | undefined {
  const terms = node.kind === 'or' ? node.children : [node];
  const ids: string[] = [];
  for (const term of terms) {
    if (term.kind !== 'compare' || term.op !== 'eq' || typeof term.value !== 'string' || !ciEq(term.path.attr, 'value')) return undefined;
    if (term.path.schema !== undefined || term.path.subAttr !== undefined) return undefined;
    ids.push(term.value);
  }
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Finishing

/** RFC 7643 §3: `schemas` lists an extension exactly when the resource holds its data. */
function settleExtensions(st: State): void {
  const schemas = st.doc.schemas;
  for (const ext of st.extensions) {
    const data = getCi(st.doc, ext.id);
    const holds = isObject(data) && Object.keys(data).length > 0;
    if (!holds) delCi(st.doc, ext.id);
    if (!Array.isArray(schemas)) continue;
    const listed = schemas.some((s) => typeof s === 'string' && ciEq(s, ext.id));
    if (holds && !listed) schemas.push(ext.id);
    if (!holds && listed) st.doc.schemas = schemas.filter((s) => !(typeof s === 'string' && ciEq(s, ext.id)));
  }
}

/** Touched attributes whose value differs from before (an add of a present value is no change); members always. */
function changedAttributes(st: State, before: Obj): string[] {
  const valueIn = (doc: Obj, [ext, attr]: [string | undefined, string]) => {
    const c = ext === undefined ? doc : getCi(doc, ext);
    return isObject(c) ? getCi(c, attr) : undefined;
  };
  return [...st.touched].filter(([name, where]) => name === 'members' || !same(valueIn(before, where), valueIn(st.doc, where))).map(([name]) => name);
}

// ---------------------------------------------------------------------------------------------
// JSON helpers. Attribute names are case-insensitive (RFC 7643 §2.1); writes use the canonical name.

/** Every spelling of the member removed (getCi, which reads one, is in scim/messages/patch-op.ts). */
function delCi(obj: Obj, name: string): void {
  for (const k of Object.keys(obj)) if (ciEq(k, name)) delete obj[k];
}

/** Set under the canonical `name`, dropping other spellings; null/undefined unassigns. */
function setCi(obj: Obj, name: string, v: unknown): void {
  delCi(obj, name);
  if (v !== null && v !== undefined) obj[name] = v;
}

/** An empty object or array is unassigned (RFC 7643 §2.5): the key goes. */
function putOrDelete(obj: Obj, name: string, v: unknown): void {
  const empty = (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
  setCi(obj, name, empty ? undefined : v);
}

const asObject = (v: unknown): Obj => (isObject(v) ? v : {});
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
const dropEmpty = (list: unknown[]) => list.filter((el) => !(isObject(el) && Object.keys(el).length === 0));

/** Sub-attribute keys in canonical spelling where the schema knows them (nulls kept: they clear on merge). */
function canonObject(def: AttributeDef, v: Obj): Obj {
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (FORBIDDEN.has(k)) continue;
    out[def.subAttributes?.find((s) => ciEq(s.name, k))?.name ?? k] = x;
  }
  return out;
}

function stripNulls(v: Obj): Obj {
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null));
}

/** Values for a multi-valued attribute: an array, or leniently one value; null is none. */
function canonItems(def: AttributeDef, raw: unknown): unknown[] {
  return asArray(raw)
    .filter((x) => x !== null)
    .map((x) => (isObject(x) ? stripNulls(canonObject(def, x)) : x));
}

/** A JSON value's text with object keys sorted: equal for values that are deeply equal. */
function stableJson(v: unknown): string | undefined {
  return JSON.stringify(v, (_k, x: unknown) => (isObject(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))) : x));
}

/** Deep equality of JSON values, ignoring key order. */
function same(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}
