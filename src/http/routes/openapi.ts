import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildDocument, undocumentedRoutes } from '../openapi/document.js';
import type { RouteEntry } from '../openapi/operation.js';
import { described, jsonBody } from '../openapi/route-doc.js';
import type { JwtInfo } from '../openapi/security.js';

/** The package's version, the document's `info.version`: package.json sits two levels up from src/ and dist/ alike. */
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * GET /openapi.json: the OpenAPI 3.1 document of the routes this app registered (`routes`, from
 * openapi/route-table.ts), built once when the app is ready, when every route is known, and served
 * from memory after that. Public, like discovery: it describes the API, not its data.
 */
export function openapiRoutes(app: FastifyInstance, opts: { routes: readonly RouteEntry[]; baseUrl: string; jwt: JwtInfo | undefined }) {
  let document = '';
  app.addHook('onReady', async () => {
    document = JSON.stringify(buildDocument({ routes: opts.routes, baseUrl: opts.baseUrl, version: VERSION, jwt: opts.jwt }));
    const missing = undocumentedRoutes(opts.routes);
    if (missing.length > 0) app.log.warn({ routes: missing }, 'routes without an OpenAPI description are left out of /openapi.json');
  });
  app.get(
    '/openapi.json',
    described('public', {
      summary: 'This OpenAPI document',
      description: 'Generated from the routes the server registered: every operation, its scope, media types and schemas.',
      tags: ['Service'],
      responses: { '200': { description: 'The OpenAPI 3.1 document.', body: jsonBody('OpenApiDocument') } },
    }),
    async (_req, reply) => reply.type('application/json; charset=utf-8').send(document),
  );
}
