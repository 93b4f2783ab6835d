import { PARAMETERS, HEADERS } from './parameters.js';
import type { RouteDoc } from './route-doc.js';
import { buildOperation, openApiPath, type RouteEntry } from './operation.js';
import { scimSchemas } from './scim-schemas.js';
import { AUTH_RESPONSES, BEARER, JWT, securitySchemes, type JwtInfo } from './security.js';
import { ssfSchemas } from './ssf-schemas.js';

export interface DocumentInput {
  readonly routes: readonly RouteEntry[];
  /** The server's base URL (BASE_URL): the document's one server. */
  readonly baseUrl: string;
  readonly version: string;
  readonly jwt: JwtInfo | undefined;
}

/** HEAD routes answer as their GET twin does (fastify adds them), so the GET operation covers them. */
const documented = (r: RouteEntry): r is RouteEntry & { doc: RouteDoc } => r.doc !== undefined && r.method !== 'HEAD';

/** `METHOD /path` of the routes without a description: they are left out of the document. */
export function undocumentedRoutes(routes: readonly RouteEntry[]): string[] {
  return routes.filter((r) => r.method !== 'HEAD' && r.doc === undefined).map((r) => `${r.method} ${r.url}`);
}

/**
 * The OpenAPI 3.1 document of the routes given, in their registration order. Pure: the same routes
 * and settings give the same document.
 */
export function buildDocument(input: DocumentInput): Record<string, unknown> {
  const schemes = input.jwt ? [BEARER, JWT] : [BEARER];
  const paths: Record<string, Record<string, unknown>> = {};
  const tags: string[] = [];
  for (const route of input.routes.filter(documented)) {
    const path = openApiPath(route.url);
    (paths[path] ??= {})[route.method.toLowerCase()] = buildOperation(route, schemes);
    for (const tag of route.doc.tags) if (!tags.includes(tag)) tags.push(tag);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'scimcast',
      version: input.version,
      summary: 'SCIM 2.0 service provider with asynchronous requests and signed Security Event Tokens',
      description:
        'SCIM 2.0 (RFC 7643, RFC 7644) with `Prefer: respond-async` (RFC 9967), SSF streams and their SETs by push (RFC 8935) or poll (RFC 8936). Generated from the routes this server registered.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: input.baseUrl }],
    tags: tags.map((name) => ({ name })),
    paths,
    components: {
      schemas: { ...scimSchemas(), ...ssfSchemas() },
      parameters: PARAMETERS,
      headers: HEADERS,
      responses: AUTH_RESPONSES,
      securitySchemes: securitySchemes(input.jwt),
    },
  };
}
