import { badRequest, ScimError } from '../core/errors.js';
import type { AttributeDef, SchemaDef } from './schemas/attribute.js';
import { COMMON_ATTRIBUTES, RESOURCE_TYPES, type ResourceTypeName } from './schemas/registry.js';
import { isObject } from '../core/is-object.js';

/**
 * Validate and normalise a POST/PUT body against the schema registry (RFC 7643 §2, RFC 7644 §3.3,
 * §3.5.1): canonical attribute names, type checks, required attributes, readOnly input dropped,
 * unknown attributes dropped and reported, immutable attributes protected on replace.
 */
export interface InputOptions {
  mode: 'create' | 'replace';
  /** The current representation, for the immutable check on replace. */
  existing?: Record<string, unknown> | undefined;
  /** Entra ID sends "True"/"False" for booleans (RFC 7643 §2.3.2 wants JSON true/false); off in strict mode. */
  coerceStringBooleans?: boolean;
}

export interface ParsedInput {
  doc: Record<string, unknown>;
  /** Paths of unknown attributes that were dropped. */
  ignored: string[];
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const invalid = (path: string, what: string) => badRequest('invalidValue', `Attribute '${path}' ${what}`);

interface Walk {
  ignored: string[];
  coerce: boolean;
}

function scalar(def: AttributeDef, v: unknown, path: string, w: Walk): unknown {
  switch (def.type) {
    case 'string':
    case 'reference':
    case 'binary':
      if (typeof v !== 'string') throw invalid(path, `must be a string`);
      return v;
    case 'dateTime':
      if (typeof v !== 'string' || !DATE_TIME.test(v) || Number.isNaN(Date.parse(v))) throw invalid(path, 'must be an xsd:dateTime such as 2026-01-31T12:00:00Z');
      return v;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (w.coerce && typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
      throw invalid(path, 'must be a boolean');
    case 'integer':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid(path, 'must be an integer');
      return v;
    case 'decimal':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(path, 'must be a number');
      return v;
    case 'complex':
      return complexValue(def, v, path, w);
  }
}

function complexValue(def: AttributeDef, v: unknown, path: string, w: Walk): Record<string, unknown> | undefined {
  if (!isObject(v)) throw invalid(path, 'must be a JSON object');
  const out: Record<string, unknown> = {};
  for (const [k, sv] of Object.entries(v)) {
    if (FORBIDDEN.has(k)) continue;
    const sub = def.subAttributes?.find((s) => s.name.toLowerCase() === k.toLowerCase());
    if (!sub) {
      w.ignored.push(`${path}.${k}`);
      continue;
    }
    const val = value(sub, sv, `${path}.${sub.name}`, w);
    if (val !== undefined) out[sub.name] = val;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** null and [] mean "unassigned" (RFC 7643 §2.5): the attribute is left out. */
function value(def: AttributeDef, v: unknown, path: string, w: Walk): unknown {
  if (def.mutability === 'readOnly') return undefined;
  if (v === null || v === undefined) return undefined;
  if (!def.multiValued) {
    if (Array.isArray(v)) throw invalid(path, 'is single-valued and must not be an array');
    return scalar(def, v, path, w);
  }
  // Lenient: a single value for a multi-valued attribute is taken as a one-element array.
  const items = (Array.isArray(v) ? v : [v]).map((item, i) => scalar(def, item, `${path}[${i}]`, w)).filter((x) => x !== undefined);
  if (items.length === 0) return undefined;
  const primaries = items.filter((x) => isObject(x) && x.primary === true).length;
  if (primaries > 1) throw invalid(path, 'has more than one value with primary: true (RFC 7643 §2.4)');
  return items;
}

function attributesOf(schema: SchemaDef, src: Record<string, unknown>, prefix: string, w: Walk, common: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    if (FORBIDDEN.has(k) || k.toLowerCase() === 'schemas') continue;
    const def =
      schema.attributes.find((a) => a.name.toLowerCase() === k.toLowerCase()) ??
      (common ? COMMON_ATTRIBUTES.find((a) => a.name.toLowerCase() === k.toLowerCase()) : undefined);
    if (!def) {
      if (!k.toLowerCase().startsWith('urn:')) w.ignored.push(prefix + k);
      continue;
    }
    const val = value(def, v, prefix + def.name, w);
    if (val !== undefined) out[def.name] = val;
  }
  return out;
}

function checkSchemas(all: SchemaDef[], core: SchemaDef, raw: unknown): string[] {
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((s) => typeof s === 'string')) {
    throw badRequest('invalidValue', `'schemas' must be a non-empty array of schema URNs including ${core.id}`);
  }
  const out: string[] = [];
  for (const urn of raw as string[]) {
    const known = all.find((s) => s.id.toLowerCase() === urn.toLowerCase());
    if (!known) throw badRequest('invalidValue', `Unknown schema URN '${urn}' in 'schemas'`);
    if (!out.includes(known.id)) out.push(known.id);
  }
  if (!out.includes(core.id)) throw badRequest('invalidValue', `'schemas' must include ${core.id}`);
  return [core.id, ...out.filter((s) => s !== core.id)];
}

function checkRequired(schema: SchemaDef, doc: Record<string, unknown>): void {
  for (const a of schema.attributes) {
    if (!a.required) continue;
    const v = doc[a.name];
    if (v === undefined || (typeof v === 'string' && v.trim() === '')) throw badRequest('invalidValue', `Attribute '${a.name}' is required`);
  }
}

/** RFC 7644 §3.5.1: a replace may not change an immutable attribute that already has a value. */
export function checkImmutable(schema: SchemaDef, doc: Record<string, unknown>, existing: Record<string, unknown>): void {
  for (const a of schema.attributes) {
    if (a.mutability !== 'immutable') continue;
    const before = existing[a.name];
    if (before !== undefined && JSON.stringify(before) !== JSON.stringify(doc[a.name])) {
      throw new ScimError(400, 'mutability', `Attribute '${a.name}' is immutable and cannot be changed`);
    }
  }
}

export function parseResourceInput(type: ResourceTypeName, body: unknown, opts: InputOptions): ParsedInput {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'The request body must be a JSON object');
  const rt = RESOURCE_TYPES[type];
  const all = [rt.schema, ...rt.extensions];
  const schemasKey = Object.keys(body).find((k) => k.toLowerCase() === 'schemas');
  const schemas = checkSchemas(all, rt.schema, schemasKey ? body[schemasKey] : undefined);
  const w: Walk = { ignored: [], coerce: opts.coerceStringBooleans ?? false };
  const doc: Record<string, unknown> = { schemas, ...attributesOf(rt.schema, body, '', w, true) };
  for (const ext of rt.extensions) {
    const key = Object.keys(body).find((k) => k.toLowerCase() === ext.id.toLowerCase());
    if (key === undefined || body[key] === null) continue;
    if (!isObject(body[key])) throw invalid(ext.id, 'must be a JSON object');
    const extDoc = attributesOf(ext, body[key], `${ext.id}:`, w, false);
    if (Object.keys(extDoc).length === 0) continue;
    doc[ext.id] = extDoc;
    // Lenient: extension data whose URN is missing from `schemas` still counts (RFC 7643 §3).
    if (!schemas.includes(ext.id)) schemas.push(ext.id);
  }
  checkRequired(rt.schema, doc);
  if (opts.mode === 'replace' && opts.existing) checkImmutable(rt.schema, doc, opts.existing);
  return { doc, ignored: w.ignored };
}
