import type { BodyDoc, ResponseDoc, RouteDoc, RouteScope } from './route-doc.js';
import { ref } from './json-schema.js';
import { authResponses, operationSecurity } from './security.js';

/** A route as the server registered it: method, URL with `:params`, and its options' config. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly scope: RouteScope | undefined;
  readonly doc: RouteDoc | undefined;
}

/** fastify's `:id` path parameters as OpenAPI's `{id}` templates (OpenAPI 3.1 §4.8.8.1). */
export const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** The template parameter names of a path, in order. */
export const pathParams = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);

const words = (s: string) => s.split(/[^A-Za-z0-9]+/).filter(Boolean);
const cap = (w: string) => w[0]!.toUpperCase() + w.slice(1);

/**
 * A stable operationId from the method and path, unique as method+path are:
 * `GET /scim/v2/Users/{id}` → `getScimV2UsersById`.
 */
export function operationId(method: string, path: string): string {
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((seg) => (seg.startsWith('{') ? `By${words(seg).map(cap).join('')}` : words(seg).map(cap).join('')));
  return method.toLowerCase() + parts.join('');
}

/** A body's media types, each with the component schema it follows (a string when it has none). */
function content(bodies: BodyDoc | readonly BodyDoc[]): Record<string, unknown> {
  const list: readonly BodyDoc[] = Array.isArray(bodies) ? bodies : [bodies as BodyDoc];
  return Object.fromEntries(list.flatMap((b) => b.media.map((m) => [m, { schema: b.schema ? ref(b.schema) : { type: 'string' } }])));
}

function response(r: ResponseDoc): Record<string, unknown> {
  return {
    description: r.description,
    ...(r.headers?.length ? { headers: Object.fromEntries(r.headers.map((h) => [h, { $ref: `#/components/headers/${h}` }])) } : {}),
    ...(r.body ? { content: content(r.body) } : {}),
  };
}

/**
 * The OpenAPI operation of a described route: its doc, path parameters from its URL, security
 * from its scope, and the 401/403 answers that scope brings.
 */
export function buildOperation(route: RouteEntry & { doc: RouteDoc }, schemes: readonly string[]): Record<string, unknown> {
  const { doc } = route;
  const path = openApiPath(route.url);
  const parameters = [
    ...pathParams(path).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    ...(doc.parameters ?? []).map((p) => ({ $ref: `#/components/parameters/${p}` })),
  ];
  return {
    operationId: operationId(route.method, path),
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [...doc.tags],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.body
      ? { requestBody: { required: doc.body.required ?? true, ...(doc.body.description ? { description: doc.body.description } : {}), content: content(doc.body) } }
      : {}),
    responses: { ...Object.fromEntries(Object.entries(doc.responses).map(([status, r]) => [status, response(r)])), ...authResponses(route.scope) },
    ...operationSecurity(route.scope, schemes),
  };
}
