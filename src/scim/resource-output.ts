import type { AttributeDef, SchemaDef } from './schemas/attribute.js';
import { COMMON_ATTRIBUTES, RESOURCE_TYPES, type ResourceTypeName } from './schemas/registry.js';
import { isObject } from '../core/is-object.js';

/**
 * What leaves the server of a resource (RFC 7643 §2.2 "returned", RFC 7644 §3.4.2.5, §3.9):
 * decided from the schema registry, attribute by attribute and sub-attribute by sub-attribute.
 * - `never` (password): never;
 * - `always` (id): always, whatever `attributes` / `excludedAttributes` say;
 * - `default`: unless excluded, and when `attributes` is given only if named there;
 * - `request`: only when named in `attributes`.
 */

const lower = (s: string) => s.toLowerCase();

export interface Selection {
  attributes?: readonly string[] | undefined;
  excludedAttributes?: readonly string[] | undefined;
}

/** The schemas of one resource type: its core schema (with the common attributes) and extensions. */
export interface OutputSchemas {
  readonly schema: SchemaDef;
  readonly extensions: readonly SchemaDef[];
}

function withoutNever(attrs: readonly AttributeDef[], src: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    const def = attrs.find((a) => a.name === k);
    if (def?.returned === 'never') continue;
    out[k] = v;
  }
  return out;
}

/** Attributes with `returned: never` (password) never leave the server (RFC 7643 §2.2). */
export function stripNeverReturned(type: ResourceTypeName, doc: Record<string, unknown>): Record<string, unknown> {
  const rt = RESOURCE_TYPES[type];
  const out = withoutNever(rt.schema.attributes, doc);
  for (const ext of rt.extensions) {
    const v = out[ext.id];
    if (isObject(v)) out[ext.id] = withoutNever(ext.attributes, v);
  }
  return out;
}

function withoutEmpty(attrs: readonly AttributeDef[], src: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(src)) {
    if (!Array.isArray(v) || v.length > 0 || !attrs.some((a) => a.multiValued && lower(a.name) === lower(k))) continue;
    out ??= { ...src };
    delete out[k];
  }
  return out ?? src;
}

/**
 * A multi-valued attribute with no values is left out (RFC 7643 §2.5: unassigned and empty are
 * equivalent; strict clients test for absence), in the core schema and in each extension. Input
 * validation never stores `[]`; this keeps documents stored otherwise from showing one.
 */
export function omitEmptyMultiValued(type: ResourceTypeName, doc: Record<string, unknown>): Record<string, unknown> {
  return omitEmptyMultiValuedWith(RESOURCE_TYPES[type], doc);
}

/** `omitEmptyMultiValued` over any set of schemas (tests use synthetic extensions: the enterprise one has no multi-valued attribute). */
export function omitEmptyMultiValuedWith(rt: OutputSchemas, doc: Record<string, unknown>): Record<string, unknown> {
  let out = withoutEmpty(rt.schema.attributes, doc);
  for (const ext of rt.extensions) {
    const v = out[ext.id];
    if (!isObject(v)) continue;
    const kept = withoutEmpty(ext.attributes, v);
    if (kept === v) continue;
    if (out === doc) out = { ...doc };
    out[ext.id] = kept;
  }
  return out;
}

/** The named attributes of one container: lower-cased name → the whole attribute, and/or some sub-attributes. */
type Picks = Map<string, { whole: boolean; subs: Set<string> }>;

interface Named {
  /** '' for the core schema (and common attributes), else the extension URN. */
  readonly picks: Map<string, Picks>;
  /** Extensions named by their URN alone: all of their attributes. */
  readonly wholeExtensions: Set<string>;
}

const CORE = '';

function coreAttributes(rt: OutputSchemas): readonly AttributeDef[] {
  return [...rt.schema.attributes, ...COMMON_ATTRIBUTES];
}

/** `[urn:]attr[.sub]` or an extension URN alone, case-insensitively (RFC 7644 §3.10); unknown paths are ignored. */
function resolvePaths(rt: OutputSchemas, paths: readonly string[]): Named {
  const named: Named = { picks: new Map(), wholeExtensions: new Set() };
  for (const raw of paths) {
    const p = raw.trim();
    const whole = rt.extensions.find((e) => lower(e.id) === lower(p));
    if (whole) {
      named.wholeExtensions.add(whole.id);
      continue;
    }
    const ext = rt.extensions.find((e) => lower(p).startsWith(`${lower(e.id)}:`));
    const coreUrn = `${lower(rt.schema.id)}:`;
    const rest = ext ? p.slice(ext.id.length + 1) : lower(p).startsWith(coreUrn) ? p.slice(coreUrn.length) : p;
    const [name = '', subName, ...more] = rest.split('.');
    if (more.length > 0) continue;
    const def = (ext ? ext.attributes : coreAttributes(rt)).find((a) => lower(a.name) === lower(name));
    if (!def) continue;
    if (subName !== undefined && !def.subAttributes?.some((s) => lower(s.name) === lower(subName))) continue;
    const key = ext ? ext.id : CORE;
    const picks = named.picks.get(key) ?? new Map();
    named.picks.set(key, picks);
    const pick = picks.get(lower(def.name)) ?? { whole: false, subs: new Set<string>() };
    picks.set(lower(def.name), pick);
    if (subName === undefined) pick.whole = true;
    else pick.subs.add(lower(subName));
  }
  return named;
}

/** Keep the sub-attributes `keep` accepts; a value that loses every sub-attribute is dropped. */
function filterSubs(def: AttributeDef, v: unknown, keep: (sub: AttributeDef | undefined) => boolean): unknown {
  if (def.type !== 'complex' || !def.subAttributes) return v;
  const one = (x: unknown): unknown => {
    if (!isObject(x)) return x;
    const entries = Object.entries(x).filter(([k]) => keep(def.subAttributes!.find((s) => lower(s.name) === lower(k))));
    return entries.length === 0 && Object.keys(x).length > 0 ? undefined : Object.fromEntries(entries);
  };
  if (!Array.isArray(v)) return one(v);
  const kept = v.map(one).filter((x) => x !== undefined);
  return kept.length === 0 && v.length > 0 ? undefined : kept;
}

interface ContainerRules {
  /** The names of `attributes`, or undefined when the parameter is absent (the default set). */
  readonly named: Picks | undefined;
  /** Every attribute counts as named (an extension URN alone in `attributes`). */
  readonly allNamed: boolean;
  readonly excluded: Picks | undefined;
  /** Every attribute counts as excluded (an extension URN alone in `excludedAttributes`). */
  readonly allExcluded: boolean;
}

/** One attribute (and its sub-attributes) by the rules of the module comment; undefined leaves it out. */
function projectAttribute(def: AttributeDef, v: unknown, r: ContainerRules): unknown {
  if (def.returned === 'never') return undefined;
  const notNever = (s: AttributeDef | undefined) => s?.returned !== 'never';
  if (def.returned === 'always') return filterSubs(def, v, (s) => notNever(s) && s?.returned !== 'request');
  if (r.named !== undefined || r.allNamed) {
    const pick = r.allNamed ? { whole: true, subs: new Set<string>() } : r.named?.get(lower(def.name));
    if (!pick) return undefined;
    const subNamed = (s: AttributeDef | undefined) => s !== undefined && pick.subs.has(lower(s.name));
    if (pick.whole) return filterSubs(def, v, (s) => notNever(s) && (s?.returned !== 'request' || subNamed(s)));
    return filterSubs(def, v, (s) => notNever(s) && (s?.returned === 'always' || subNamed(s)));
  }
  if (def.returned === 'request') return undefined;
  const ex = r.allExcluded ? { whole: true, subs: new Set<string>() } : r.excluded?.get(lower(def.name));
  if (ex?.whole) return undefined;
  return filterSubs(def, v, (s) => s === undefined || s.returned === 'always' || (s.returned === 'default' && !ex?.subs.has(lower(s.name))));
}

function projectContainer(defs: readonly AttributeDef[], src: Record<string, unknown>, r: ContainerRules, skip: (key: string) => boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    if (skip(k)) continue;
    const def = defs.find((a) => lower(a.name) === lower(k));
    // Not in the schema: part of the default set only.
    const value = def ? projectAttribute(def, v, r) : r.named === undefined && !r.allExcluded ? v : undefined;
    if (value !== undefined) out[k] = value;
  }
  return out;
}

/** `projectAttributes` over any set of schemas (tests use synthetic ones). */
export function projectWith(rt: OutputSchemas, resource: Record<string, unknown>, sel: Selection): Record<string, unknown> {
  const given = sel.attributes !== undefined && sel.attributes.length > 0;
  const named = resolvePaths(rt, given ? sel.attributes! : []);
  const excluded = resolvePaths(rt, given ? [] : (sel.excludedAttributes ?? []));
  const rules = (key: string, ext: boolean): ContainerRules => ({
    named: given ? (named.picks.get(key) ?? new Map()) : undefined,
    allNamed: ext && named.wholeExtensions.has(key),
    excluded: excluded.picks.get(key),
    allExcluded: ext && excluded.wholeExtensions.has(key),
  });
  const extKey = (k: string) => rt.extensions.find((e) => lower(e.id) === lower(k));
  const core = projectContainer(coreAttributes(rt), resource, rules(CORE, false), (k) => k === 'schemas' || extKey(k) !== undefined);
  const out: Record<string, unknown> = {};
  // Resource order: schemas, id, …, extensions where they were.
  for (const k of Object.keys(resource)) {
    if (k === 'schemas') out.schemas = resource.schemas;
    else if (Object.hasOwn(core, k)) out[k] = core[k];
    else {
      const ext = extKey(k);
      const v = resource[k];
      if (!ext || !isObject(v)) continue;
      const projected = projectContainer(ext.attributes, v, rules(ext.id, true), () => false);
      if (Object.keys(projected).length > 0) out[k] = projected;
    }
  }
  return out;
}

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) and `returned` (RFC 7643 §2.2)
 * on a resource representation. `schemas` is always kept. With no selection this still applies
 * `returned`, so `request` attributes stay out of the default set.
 */
export function projectAttributes(type: ResourceTypeName, resource: Record<string, unknown>, sel: Selection): Record<string, unknown> {
  return projectWith(RESOURCE_TYPES[type], resource, sel);
}

/**
 * Whether `projectAttributes` would return the attribute at `path` at all, decided before the
 * resource is read: a Group's `members` that the response leaves out are not fetched, so a large
 * group costs nothing then.
 */
export function returnsAttributeWith(rt: OutputSchemas, path: string, sel: Selection): boolean {
  const named = resolvePaths(rt, [path]);
  const [key, picks] = [...named.picks][0] ?? [];
  if (key === undefined || !picks) return false;
  const [name] = [...picks.keys()];
  if (name === undefined) return false;
  const def = (key === CORE ? coreAttributes(rt) : rt.extensions.find((e) => e.id === key)!.attributes).find((a) => lower(a.name) === name)!;
  if (def.returned === 'never') return false;
  if (def.returned === 'always') return true;
  const given = sel.attributes !== undefined && sel.attributes.length > 0;
  if (given) {
    const asked = resolvePaths(rt, sel.attributes!);
    return asked.picks.get(key)?.has(name) === true || (key !== CORE && asked.wholeExtensions.has(key));
  }
  if (def.returned === 'request') return false;
  const ex = resolvePaths(rt, sel.excludedAttributes ?? []);
  return ex.picks.get(key)?.get(name)?.whole !== true && !(key !== CORE && ex.wholeExtensions.has(key));
}

export function returnsAttribute(type: ResourceTypeName, path: string, sel: Selection): boolean {
  return returnsAttributeWith(RESOURCE_TYPES[type], path, sel);
}
