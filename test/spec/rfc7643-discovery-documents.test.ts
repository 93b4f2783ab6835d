import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';

/**
 * Every discovery document checked against the RFC 7643 definitions of its kind (§5
 * ServiceProviderConfig, §6 ResourceType, §7 Schema), recorded as data in
 * test/fixtures/rfc7643-discovery-documents.json: no attribute the RFC does not define at any
 * level, every required one present, each value of its type, the document's own `schemas` URN,
 * and `meta` naming the document's kind and its own URL. Strict clients (models that refuse
 * unknown attributes) fail discovery on any of these.
 */

interface AttrSpec {
  type: string;
  multiValued: boolean;
  required: boolean;
  canonicalValues?: string[];
  subAttributes?: Record<string, AttrSpec>;
  sameAsParent?: boolean;
}
interface DocSpec {
  schemas: string[];
  meta: { resourceType: string; location: string };
  attributes: Record<string, AttrSpec>;
  extensions: Record<string, AttrSpec>;
}
interface Fixture {
  types: string[];
  meta: AttrSpec;
  documents: Record<'ServiceProviderConfig' | 'ResourceType' | 'Schema', DocSpec>;
}

const FIXTURE = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/rfc7643-discovery-documents.json'), 'utf8')) as Fixture;
const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
// xsd:dateTime (RFC 7643 §2.3.5).
const DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** RFC 7643 §2.3: the JSON form of each data type. */
function typeError(type: string, v: unknown): string | undefined {
  switch (type) {
    case 'string':
    case 'reference':
    case 'binary':
      return typeof v === 'string' ? undefined : 'a string';
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'a boolean';
    case 'integer':
      return Number.isInteger(v) ? undefined : 'an integer';
    case 'decimal':
      return typeof v === 'number' ? undefined : 'a number';
    case 'dateTime':
      return typeof v === 'string' && DATE_TIME.test(v) ? undefined : 'an xsd:dateTime string';
    case 'complex':
      return isObject(v) ? undefined : 'a JSON object';
    default:
      return `of unknown type ${type}`;
  }
}

/** Every difference from the definitions, as readable lines (so one run reports them all). */
function check(where: string, value: Record<string, unknown>, attrs: Record<string, AttrSpec>, out: string[]): void {
  for (const [name, spec] of Object.entries(attrs)) {
    if (spec.required && value[name] === undefined) out.push(`${where}.${name}: required, absent`);
  }
  for (const [name, v] of Object.entries(value)) {
    const spec = attrs[name];
    if (!spec) {
      out.push(`${where}.${name}: not an attribute the RFC defines here`);
      continue;
    }
    checkValue(`${where}.${name}`, v, spec, attrs, out);
  }
}

function checkValue(where: string, v: unknown, spec: AttrSpec, parent: Record<string, AttrSpec>, out: string[]): void {
  if (v === null) {
    out.push(`${where}: null (omit an unassigned attribute, RFC 7643 §2.5)`);
    return;
  }
  if (spec.multiValued && !Array.isArray(v)) {
    out.push(`${where}: must be an array`);
    return;
  }
  const values = spec.multiValued ? (v as unknown[]) : [v];
  values.forEach((x, i) => {
    const at = spec.multiValued ? `${where}[${i}]` : where;
    const bad = typeError(spec.type, x);
    if (bad) {
      out.push(`${at}: must be ${bad}, got ${JSON.stringify(x)}`);
      return;
    }
    if (spec.canonicalValues && !spec.canonicalValues.includes(x as string)) out.push(`${at}: ${JSON.stringify(x)} is not one of ${spec.canonicalValues.join(', ')}`);
    if (spec.type === 'complex') check(at, x as Record<string, unknown>, spec.sameAsParent ? parent : (spec.subAttributes ?? {}), out);
  });
}

/** The document's own `schemas`, and `meta` naming its kind and URL (RFC 7643 §3.1, §5–§7). */
function checkDocument(kind: keyof Fixture['documents'], doc: Record<string, unknown>, opts: { extensions: boolean }): string[] {
  const spec = FIXTURE.documents[kind];
  const out: string[] = [];
  const where = `${kind}${doc.id ? ` ${String(doc.id)}` : ''}`;
  const { schemas, ...rest } = doc;
  if (JSON.stringify(schemas) !== JSON.stringify(spec.schemas)) out.push(`${where}.schemas: ${JSON.stringify(schemas)}, expected ${JSON.stringify(spec.schemas)}`);
  const attrs = { ...spec.attributes, meta: FIXTURE.meta, ...(opts.extensions ? spec.extensions : {}) };
  check(where, rest, attrs, out);
  const meta = doc.meta as Record<string, unknown> | undefined;
  if (meta?.resourceType !== spec.meta.resourceType) out.push(`${where}.meta.resourceType: ${String(meta?.resourceType)}, expected ${spec.meta.resourceType}`);
  const location = `${BASE_URL}/scim/v2${spec.meta.location.replace('{id}', String(doc.id))}`;
  if (meta?.location !== location) out.push(`${where}.meta.location: ${String(meta?.location)}, expected ${location}`);
  return out;
}

/** What §7 and §2.3 add beyond shapes: referenceTypes only on references, no complex within complex. */
function checkAttributeDefinitions(schemaId: string, attrs: Record<string, unknown>[], depth: number, out: string[]): void {
  for (const a of attrs) {
    const where = `${schemaId}:${String(a.name)}`;
    if (a.referenceTypes !== undefined && a.type !== 'reference') out.push(`${where}: referenceTypes on a ${String(a.type)} attribute (RFC 7643 §7: only for type reference)`);
    if (a.subAttributes !== undefined && a.type !== 'complex') out.push(`${where}: subAttributes on a ${String(a.type)} attribute (RFC 7643 §7)`);
    if (a.type === 'complex' && depth > 0) out.push(`${where}: a complex sub-attribute (RFC 7643 §2.3.8)`);
    if (Array.isArray(a.subAttributes)) checkAttributeDefinitions(where, a.subAttributes as Record<string, unknown>[], depth + 1, out);
  }
}

let lenient: TestApp;
let core: TestApp;
beforeAll(async () => {
  [lenient, core] = await Promise.all([startTestApp(), startTestApp({ SCIMCAST_COMPAT_CORE_SPC: 'true' })]);
});
afterAll(async () => {
  await Promise.all([lenient, core].map((t) => t?.close()));
});

async function get(t: TestApp, path: string) {
  const res = await t.req('GET', `/scim/v2${path}`, undefined, { auth: null });
  expect(res.statusCode, `${path}: ${res.body}`).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
  return res.json() as Record<string, unknown>;
}

async function list(t: TestApp, path: string) {
  const body = await get(t, path);
  expect(body.schemas).toEqual([LIST_RESPONSE]);
  const resources = body.Resources as Record<string, unknown>[];
  expect(body.totalResults).toBe(resources.length);
  return resources;
}

describe('discovery documents against RFC 7643 §5–§7', () => {
  it('/ServiceProviderConfig by default: RFC 7643 §5 plus RFC 9865 pagination and RFC 9967 securityEvents', async () => {
    const spc = await get(lenient, '/ServiceProviderConfig');
    expect(checkDocument('ServiceProviderConfig', spc, { extensions: true })).toEqual([]);
    expect(spc).toHaveProperty('pagination');
    expect(spc).toHaveProperty('securityEvents');
  });

  it('/ServiceProviderConfig with SCIMCAST_COMPAT_CORE_SPC=true: RFC 7643 §5 attributes only', async () => {
    const spc = await get(core, '/ServiceProviderConfig');
    expect(checkDocument('ServiceProviderConfig', spc, { extensions: false })).toEqual([]);
    expect(spc).not.toHaveProperty('pagination');
    expect(spc).not.toHaveProperty('securityEvents');
    // Only the advertisement goes; the capabilities stay (RFC 9865 §2.4: index paging stays the default).
    const { pagination: _p, securityEvents: _s, ...rest } = await get(lenient, '/ServiceProviderConfig');
    expect(spc).toEqual(rest);
  });

  it('the default ServiceProviderConfig is refused by a model that knows only RFC 7643 §5 (what the switch is for)', async () => {
    const spc = await get(lenient, '/ServiceProviderConfig');
    expect(checkDocument('ServiceProviderConfig', spc, { extensions: false })).toEqual([
      'ServiceProviderConfig.pagination: not an attribute the RFC defines here',
      'ServiceProviderConfig.securityEvents: not an attribute the RFC defines here',
    ]);
  });

  it('/ResourceTypes and each /ResourceTypes/{id} (RFC 7643 §6), in both modes', async () => {
    for (const t of [lenient, core]) {
      const types = await list(t, '/ResourceTypes');
      expect(types.map((r) => r.id)).toEqual(['User', 'Group']);
      const schemaIds = (await list(t, '/Schemas')).map((s) => s.id);
      for (const rt of types) {
        expect(checkDocument('ResourceType', rt, { extensions: false })).toEqual([]);
        expect(await get(t, `/ResourceTypes/${String(rt.id)}`)).toEqual(rt);
        // §6: endpoint relative to the base URL; schema and extension URIs name served schemas.
        expect(rt.endpoint).toMatch(/^\/[A-Za-z]+$/);
        expect(schemaIds).toContain(rt.schema);
        for (const ext of (rt.schemaExtensions as { schema: string }[] | undefined) ?? []) expect(schemaIds).toContain(ext.schema);
      }
    }
  });

  it('/Schemas and each /Schemas/{id} (RFC 7643 §7), in both modes', async () => {
    for (const t of [lenient, core]) {
      const schemas = await list(t, '/Schemas');
      expect(schemas.length).toBeGreaterThan(0);
      for (const s of schemas) {
        const out = checkDocument('Schema', s, { extensions: false });
        checkAttributeDefinitions(String(s.id), s.attributes as Record<string, unknown>[], 0, out);
        expect(out).toEqual([]);
        expect(s.id).toMatch(/^urn:/);
        expect(await get(t, `/Schemas/${String(s.id)}`)).toEqual(s);
      }
    }
  });

  it('the validator itself: it reports an unknown attribute, a missing required one, a wrong type, a wrong URN and a wrong meta', () => {
    const bad = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
      name: 'User',
      endpoint: 42,
      schema: 'urn:ietf:params:scim:schemas:core:2.0:User',
      schemaExtensions: [{ schema: 'urn:x', required: false, extra: 1 }],
      unknown: true,
      meta: { resourceType: 'Schema', location: `${BASE_URL}/scim/v2/ResourceTypes/User` },
    };
    expect(checkDocument('ResourceType', bad, { extensions: false })).toEqual([
      'ResourceType.schemas: ["urn:ietf:params:scim:schemas:core:2.0:Schema"], expected ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"]',
      'ResourceType.endpoint: must be a string, got 42',
      'ResourceType.schemaExtensions[0].extra: not an attribute the RFC defines here',
      'ResourceType.unknown: not an attribute the RFC defines here',
      'ResourceType.meta.resourceType: Schema, expected ResourceType',
      `ResourceType.meta.location: ${BASE_URL}/scim/v2/ResourceTypes/User, expected ${BASE_URL}/scim/v2/ResourceTypes/undefined`,
    ]);
    const noPatch = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'], meta: { resourceType: 'ServiceProviderConfig', location: `${BASE_URL}/scim/v2/ServiceProviderConfig` } };
    expect(checkDocument('ServiceProviderConfig', noPatch, { extensions: false })).toContain('ServiceProviderConfig.patch: required, absent');
  });
});
