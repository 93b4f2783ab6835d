import type { AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, useTestApp, type TestApp } from '../helpers/app.js';
import { registeredRoutes } from '../security/support.js';

/**
 * GET /openapi.json: the OpenAPI 3.1 document generated from the routes the server registered.
 * It must be a valid 3.1 document (checked by a maintained validator against the OAS schema), say
 * what a client needs (media types, scopes), and name every route the router has: a route added
 * without a description fails here.
 */
type Doc = {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { scheme: string; bearerFormat?: string }> };
};
type Operation = {
  security: Record<string, string[]>[];
  'x-scope': string;
  requestBody?: { content: Record<string, { schema: { $ref: string } }> };
  responses: Record<string, { content?: Record<string, unknown>; $ref?: string }>;
};

async function fetchDocument(t: TestApp): Promise<{ status: number; type: string | null; doc: Doc }> {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as AddressInfo;
  const res = await fetch(`http://127.0.0.1:${port}/openapi.json`);
  return { status: res.status, type: res.headers.get('content-type'), doc: (await res.json()) as Doc };
}

/** Every `$ref` in the document, with where it is. */
function refs(value: unknown, at = '#'): [string, string][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => refs(v, `${at}/${i}`));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [[at, v] as [string, string]] : refs(v, `${at}/${k}`)));
}

const resolve = (doc: unknown, pointer: string) =>
  pointer
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined), doc);

describe('GET /openapi.json', () => {
  const t = useTestApp();
  let doc: Doc;
  let res: Awaited<ReturnType<typeof fetchDocument>>;

  beforeAll(async () => {
    res = await fetchDocument(t);
    doc = res.doc;
  });

  it('answers without a token, as JSON', () => {
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/json/);
  });

  it('is a valid OpenAPI 3.1 document, every $ref resolving', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.errors, JSON.stringify(result.errors, null, 2)?.slice(0, 2000)).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    const dangling = refs(doc).filter(([, r]) => resolve(doc, r) === undefined);
    expect(dangling).toEqual([]);
  });

  it('the validator refuses a broken copy (the control)', async () => {
    const broken = structuredClone(doc) as unknown as { paths: Record<string, Record<string, { responses: unknown }>> };
    broken.paths['/healthz']!.get!.responses = 'none';
    expect((await new Validator().validate(broken as unknown as Record<string, unknown>)).valid).toBe(false);
  });

  it('names the configured base URL as its server', () => {
    expect(doc.servers).toEqual([{ url: BASE_URL }]);
  });

  it('POST /scim/v2/Users takes and answers application/scim+json, a User', () => {
    const op = doc.paths['/scim/v2/Users']!.post!;
    expect(Object.keys(op.requestBody!.content)[0]).toBe('application/scim+json');
    expect(op.requestBody!.content['application/scim+json']!.schema).toEqual({ $ref: '#/components/schemas/User' });
    expect(Object.keys(op.responses['201']!.content!)).toEqual(['application/scim+json']);
    expect(op['x-scope']).toBe('scim:write');
  });

  it('the stream API needs feeds:admin, and says so with its 401 and 403', () => {
    for (const method of ['get', 'post', 'patch', 'put', 'delete']) {
      const op = doc.paths['/ssf/streams']![method]!;
      expect(op.security, method).toEqual([{ bearerAuth: ['feeds:admin'] }]);
      expect(op.responses['401']).toEqual({ $ref: '#/components/responses/Unauthorized' });
      expect(op.responses['403']).toEqual({ $ref: '#/components/responses/Forbidden' });
    }
  });

  it('public routes need no token; poll and async status take any token', () => {
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/jwks.json', '/.well-known/ssf-configuration', '/scim/v2/ServiceProviderConfig']) {
      expect(doc.paths[path]!.get!.security, path).toEqual([]);
      expect(doc.paths[path]!.get!.responses['401'], path).toBeUndefined();
    }
    expect(doc.paths['/ssf/streams/{id}/poll']!.post!.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/scim/v2/AsyncRequests/{id}']!.get!.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/metrics']!.get!.security).toEqual([{ bearerAuth: ['metrics:read'] }]);
  });

  it('has no JWT scheme when no JWT issuer is configured', () => {
    expect(Object.keys(doc.components.securitySchemes)).toEqual(['bearerAuth']);
  });

  it('describes every route the router has, and no route it does not have', () => {
    // The router spells paths in lower case (routes match case-insensitively); HEAD follows GET.
    const routed = registeredRoutes(t)
      .filter((r) => !r.startsWith('HEAD '))
      .map((r) => r.replace(/:([A-Za-z0-9_]+)/g, '{$1}'));
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path.toLowerCase()}`));
    expect(routed.filter((r) => !documented.includes(r)), 'routes without a description (use described() in their options)').toEqual([]);
    expect(documented.filter((r) => !routed.includes(r)), 'documented operations with no route').toEqual([]);
    expect(routed.length).toBeGreaterThan(40);
  });
});

describe('GET /openapi.json with JWT access tokens configured', () => {
  const t = useTestApp({
    SCIMCAST_JWT_ISSUER: 'https://idp.example.test',
    SCIMCAST_JWT_AUDIENCE: 'scimcast',
    // Never fetched: the document names the issuer and audience only.
    SCIMCAST_JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json',
  });

  it('offers the JWT bearer scheme beside the opaque one, with the same scopes', async () => {
    const res = await t.req('GET', '/openapi.json', undefined, { auth: null });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as Doc;
    expect(doc.components.securitySchemes.jwtAuth).toMatchObject({ scheme: 'bearer', bearerFormat: 'JWT' });
    expect(JSON.stringify(doc.components.securitySchemes.jwtAuth)).not.toContain('127.0.0.1:9');
    expect(doc.paths['/scim/v2/Users']!.get!.security).toEqual([{ bearerAuth: ['scim:read'] }, { jwtAuth: ['scim:read'] }]);
  });
});
