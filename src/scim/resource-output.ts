import type { AttributeDef } from './schemas/attribute.js';
import { COMMON_ATTRIBUTES, RESOURCE_TYPES, type ResourceTypeName } from './schemas/registry.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

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

interface Selection {
  attributes?: readonly string[] | undefined;
  excludedAttributes?: readonly string[] | undefined;
}

/** `[urn:]attr[.sub]` → [container key, attr, sub?] with canonical names, or undefined. */
function resolve(type: ResourceTypeName, path: string): { ext?: string; attr: AttributeDef; sub?: AttributeDef } | undefined {
  const rt = RESOURCE_TYPES[type];
  const p = path.trim();
  const ext = rt.extensions.find((e) => p.toLowerCase().startsWith(`${e.id.toLowerCase()}:`));
  const rest = ext ? p.slice(ext.id.length + 1) : p.replace(new RegExp(`^${rt.schema.id.replace(/[.]/g, '\\.')}:`, 'i'), '');
  const [name, subName] = rest.split('.');
  const attrs = ext ? ext.attributes : [...rt.schema.attributes, ...COMMON_ATTRIBUTES];
  const attr = attrs.find((a) => a.name.toLowerCase() === (name ?? '').toLowerCase());
  if (!attr) return undefined;
  const sub = subName ? attr.subAttributes?.find((s) => s.name.toLowerCase() === subName.toLowerCase()) : undefined;
  if (subName && !sub) return undefined;
  return { ...(ext ? { ext: ext.id } : {}), attr, ...(sub ? { sub } : {}) };
}

function pickSub(v: unknown, sub: string): unknown {
  if (Array.isArray(v)) return v.map((x) => (isObject(x) && x[sub] !== undefined ? { [sub]: x[sub] } : undefined)).filter((x) => x !== undefined);
  return isObject(v) && v[sub] !== undefined ? { [sub]: v[sub] } : undefined;
}

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9). id and schemas are always
 * returned; `returned: request` attributes only when named; excludedAttributes never removes
 * `returned: always` attributes.
 */
export function projectAttributes(type: ResourceTypeName, resource: Record<string, unknown>, sel: Selection): Record<string, unknown> {
  const out: Record<string, unknown> = { ...resource };
  if (sel.attributes && sel.attributes.length > 0) {
    const kept: Record<string, unknown> = { schemas: resource.schemas, id: resource.id };
    for (const p of sel.attributes) {
      const r = resolve(type, p);
      if (!r) continue;
      const container = r.ext ? (resource[r.ext] as Record<string, unknown> | undefined) : resource;
      const v = container?.[r.attr.name];
      if (v === undefined) continue;
      const picked = r.sub ? pickSub(v, r.sub.name) : v;
      if (picked === undefined) continue;
      if (r.ext) {
        const target = (kept[r.ext] ??= {}) as Record<string, unknown>;
        target[r.attr.name] = r.sub && isObject(target[r.attr.name]) ? { ...(target[r.attr.name] as object), ...(picked as object) } : picked;
      } else {
        kept[r.attr.name] = r.sub && isObject(kept[r.attr.name]) ? { ...(kept[r.attr.name] as object), ...(picked as object) } : picked;
      }
    }
    return kept;
  }
  for (const p of sel.excludedAttributes ?? []) {
    const r = resolve(type, p);
    if (!r || r.attr.returned === 'always' || r.sub?.returned === 'always') continue;
    const container = r.ext ? (out[r.ext] as Record<string, unknown> | undefined) : out;
    if (!container) continue;
    if (!r.sub) {
      if (r.ext) out[r.ext] = Object.fromEntries(Object.entries(container).filter(([k]) => k !== r.attr.name));
      else delete out[r.attr.name];
      continue;
    }
    const v = container[r.attr.name];
    const drop = (x: unknown) => (isObject(x) ? Object.fromEntries(Object.entries(x).filter(([k]) => k !== r.sub!.name)) : x);
    const nv = Array.isArray(v) ? v.map(drop) : drop(v);
    if (r.ext) out[r.ext] = { ...container, [r.attr.name]: nv };
    else out[r.attr.name] = nv;
  }
  return out;
}
