import { describe, expect, it } from 'vitest';
import { buildDocument, undocumentedRoutes } from '../../../src/http/openapi/document.js';
import { buildOperation, openApiPath, operationId, pathParams, type RouteEntry } from '../../../src/http/openapi/operation.js';
import { described, scimAnswer, scimBody, type RouteDoc } from '../../../src/http/openapi/route-doc.js';
import { attributeSchema, resourceSchema, scimSchemas } from '../../../src/http/openapi/scim-schemas.js';
import { operationSecurity } from '../../../src/http/openapi/security.js';
import { ssfSchemas } from '../../../src/http/openapi/ssf-schemas.js';
import { POLL_METHOD, PUSH_METHOD } from '../../../src/core/delivery-methods.js';
import { ENTERPRISE_USER_URN, RESOURCE_TYPES, USER_URN, attr, multi, str } from '../../../src/scim/schemas/index.js';

const doc = (summary: string, more: Partial<RouteDoc> = {}): RouteDoc => ({ summary, tags: ['T'], responses: { '200': { description: 'ok' } }, ...more });
const route = (method: string, url: string, scope: RouteEntry['scope'], d: RouteDoc | undefined = doc(`${method} ${url}`)): RouteEntry => ({ method, url, scope, doc: d });
const build = (routes: RouteEntry[], jwt?: { issuer: string; audience: string }) =>
  buildDocument({ routes, baseUrl: 'https://scim.example.test', version: '1.2.3', jwt }) as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
    tags: { name: string }[];
    components: { securitySchemes: Record<string, unknown> };
  };

describe('paths and operation ids', () => {
  it("turns fastify's :params into OpenAPI templates", () => {
    expect(openApiPath('/scim/v2/Users/:id')).toBe('/scim/v2/Users/{id}');
    expect(openApiPath('/scim/v2/ResourceTypes/:name')).toBe('/scim/v2/ResourceTypes/{name}');
    expect(openApiPath('/.well-known/ssf-configuration')).toBe('/.well-known/ssf-configuration');
    expect(pathParams('/ssf/streams/{id}/poll')).toEqual(['id']);
  });

  it('derives readable, distinct operation ids from method and path', () => {
    expect(operationId('GET', '/scim/v2/Users/{id}')).toBe('getScimV2UsersById');
    expect(operationId('POST', '/scim/v2/Users/.search')).toBe('postScimV2UsersSearch');
    expect(operationId('GET', '/.well-known/ssf-configuration')).toBe('getWellKnownSsfConfiguration');
    expect(operationId('GET', '/scim/v2/Users')).not.toBe(operationId('GET', '/scim/v2/Users/{id}'));
  });
});

describe('security from the route scope', () => {
  it('public needs nothing, authenticated any token, a scope that scope as the role', () => {
    expect(operationSecurity('public', ['bearerAuth'])).toEqual({ security: [], 'x-scope': 'public' });
    expect(operationSecurity('authenticated', ['bearerAuth', 'jwtAuth'])).toEqual({ security: [{ bearerAuth: [] }, { jwtAuth: [] }], 'x-scope': 'authenticated' });
    expect(operationSecurity('scim:read', ['bearerAuth'])).toEqual({ security: [{ bearerAuth: ['scim:read'] }], 'x-scope': 'scim:read' });
  });

  it('a route without a scope is documented as admin-only, as the auth plugin enforces it', () => {
    expect(operationSecurity(undefined, ['bearerAuth'])).toEqual({ security: [{ bearerAuth: ['admin'] }], 'x-scope': 'admin' });
  });

  it('adds 401 to protected operations and 403 to scoped ones only', () => {
    const op = (scope: RouteEntry['scope']) => buildOperation({ ...route('GET', '/x', scope), doc: doc('x') }, ['bearerAuth']).responses as Record<string, unknown>;
    expect(Object.keys(op('public'))).toEqual(['200']);
    expect(Object.keys(op('authenticated'))).toEqual(['200', '401']);
    expect(Object.keys(op('feeds:admin'))).toEqual(['200', '401', '403']);
  });
});

describe('operations', () => {
  it('carry path parameters, named parameters, the body media types and the response headers', () => {
    const d = doc('Replace', { parameters: ['IfMatch'], body: scimBody('User'), responses: { '200': { description: 'ok', body: scimAnswer('User'), headers: ['ETag'] } } });
    const op = buildOperation({ ...route('PUT', '/scim/v2/Users/:id', 'scim:write'), doc: d }, ['bearerAuth']);
    expect(op.parameters).toEqual([{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { $ref: '#/components/parameters/IfMatch' }]);
    expect(op.requestBody).toEqual({
      required: true,
      content: { 'application/scim+json': { schema: { $ref: '#/components/schemas/User' } }, 'application/json': { schema: { $ref: '#/components/schemas/User' } } },
    });
    expect((op.responses as Record<string, unknown>)['200']).toEqual({
      description: 'ok',
      headers: { ETag: { $ref: '#/components/headers/ETag' } },
      content: { 'application/scim+json': { schema: { $ref: '#/components/schemas/User' } } },
    });
  });

  it('described() puts the scope and the description in the route config', () => {
    const d = doc('x');
    expect(described('scim:bulk', d)).toEqual({ config: { scope: 'scim:bulk', openapi: d } });
  });
});

describe('the document', () => {
  it('groups methods by path, leaves HEAD to GET and undescribed routes out (and names them)', () => {
    const routes = [route('GET', '/a/:id', 'scim:read'), route('HEAD', '/a/:id', 'scim:read'), route('DELETE', '/a/:id', 'scim:write'), { method: 'POST', url: '/b', scope: 'admin', doc: undefined } satisfies RouteEntry];
    const d = build(routes);
    expect(Object.keys(d.paths)).toEqual(['/a/{id}']);
    expect(Object.keys(d.paths['/a/{id}']!)).toEqual(['get', 'delete']);
    expect(undocumentedRoutes(routes)).toEqual(['POST /b']);
  });

  it('lists tags in the order routes first use them', () => {
    const d = build([route('GET', '/1', 'public', doc('1', { tags: ['B'] })), route('GET', '/2', 'public', doc('2', { tags: ['A', 'B'] }))]);
    expect(d.tags).toEqual([{ name: 'B' }, { name: 'A' }]);
  });

  it('offers the JWT scheme only when an issuer is configured', () => {
    expect(Object.keys(build([]).components.securitySchemes)).toEqual(['bearerAuth']);
    const withJwt = build([route('GET', '/x', 'scim:read')], { issuer: 'https://idp.example', audience: 'scimcast' });
    expect(Object.keys(withJwt.components.securitySchemes)).toEqual(['bearerAuth', 'jwtAuth']);
    expect(withJwt.paths['/x']!.get!.security).toEqual([{ bearerAuth: ['scim:read'] }, { jwtAuth: ['scim:read'] }]);
  });

  it('is the same for the same routes', () => {
    const routes = [route('GET', '/x', 'public')];
    expect(JSON.stringify(build(routes))).toBe(JSON.stringify(build(routes)));
  });
});

describe('schemas from the SCIM definitions', () => {
  it('maps attribute types, multi-valuedness and mutability', () => {
    expect(attributeSchema(attr('created', 'dateTime', 'd', { mutability: 'readOnly' }))).toEqual({ type: 'string', format: 'date-time', description: 'd', readOnly: true });
    expect(attributeSchema(str('password', 'p', { mutability: 'writeOnly', returned: 'never' }))).toMatchObject({ type: 'string', writeOnly: true });
    const emails = attributeSchema(multi('emails', 'e', [str('value', 'v'), attr('primary', 'boolean', 'p')]));
    expect(emails).toMatchObject({ type: 'array', items: { type: 'object', properties: { value: { type: 'string' }, primary: { type: 'boolean' } } } });
  });

  it('puts $ref sub-attributes under an anchored pattern, not a "$ref" key tools would follow', () => {
    const members = attributeSchema(multi('members', 'm', [str('value', 'v'), attr('$ref', 'reference', 'r')])) as { items: Record<string, unknown> };
    expect(Object.keys(members.items.properties as object)).toEqual(['value']);
    expect(members.items.patternProperties).toEqual({ '^\\$ref$': { type: 'string', format: 'uri-reference', description: 'r' } });
  });

  it('a User names its schema, requires userName (not the server-set id), and carries the enterprise extension under its URN', () => {
    const user = resourceSchema(RESOURCE_TYPES.User) as { properties: Record<string, unknown>; required: string[] };
    expect(user.required).toEqual(['schemas', 'userName']);
    expect(user.properties.schemas).toMatchObject({ contains: { const: USER_URN } });
    expect(user.properties[ENTERPRISE_USER_URN]).toMatchObject({ $ref: '#/components/schemas/EnterpriseUser' });
    expect(user.properties.id).toMatchObject({ readOnly: true });
  });

  it('every resource type gets a schema and a list schema; every $ref names a component', () => {
    const schemas = { ...scimSchemas(), ...ssfSchemas() };
    for (const name of Object.keys(RESOURCE_TYPES)) expect(Object.keys(schemas)).toEqual(expect.arrayContaining([name, `${name}ListResponse`]));
    const refs = JSON.stringify(schemas).match(/"\$ref":"#\/components\/schemas\/[^"]+"/g) ?? [];
    const missing = refs.map((r) => r.split('/').at(-1)!.replace('"', '')).filter((n) => !(n in schemas));
    expect(missing).toEqual([]);
  });

  it('the stream configuration comes from the zod schema that validates it', () => {
    const config = ssfSchemas().StreamConfiguration as { $schema?: string; properties: { delivery: { properties: { method: { enum: string[] } } } }; additionalProperties: boolean };
    expect(config.$schema).toBeUndefined();
    expect(config.properties.delivery.properties.method.enum).toEqual([PUSH_METHOD, POLL_METHOD]);
    expect(config.additionalProperties).toBe(false);
  });
});
