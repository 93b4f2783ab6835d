import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../core/errors.js';

/**
 * One rule for the query string of every route: each parameter at most once.
 *
 * No query parameter of this API is multi-valued. RFC 7644 §3.4.2 gives `filter`, `sortBy`,
 * `sortOrder`, `startIndex` and `count` one value each, RFC 9865 §2 `cursor` too, and RFC 7644
 * §3.9 makes `attributes` / `excludedAttributes` one comma-separated list rather than a repeated
 * parameter; the SSF and operator routes take one `stream_id`, `status` or `limit`. A repeated
 * parameter is therefore a client bug or an attempt at parameter pollution (a proxy that checks
 * the first value while the server uses the last). Picking one silently hides the bug, and
 * joining repeated `attributes` would invent a syntax the RFC does not define, so the request is
 * refused: 400 invalidValue naming the parameter (RFC 7644 §3.12), before any handler runs.
 *
 * fastify's parser gives a repeated parameter as an array; after this hook every query value a
 * handler reads is a string (see `queryOf`).
 */
export function repeatedParameter(query: unknown): string | undefined {
  if (query === null || typeof query !== 'object') return undefined;
  for (const [k, v] of Object.entries(query)) if (Array.isArray(v)) return k;
  return undefined;
}

export function registerQueryParams(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    const name = repeatedParameter(req.query);
    if (name !== undefined) throw badRequest('invalidValue', `Query parameter ${JSON.stringify(name)} is given more than once; each query parameter takes one value (RFC 7644 §3.4.2)`);
  });
}
