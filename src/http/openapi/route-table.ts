import type { FastifyInstance } from 'fastify';
import type { RouteEntry } from './operation.js';

/**
 * Every route registered on `app` from now on, as fastify's onRoute hook sees it (routes of
 * encapsulated plugins included, with their prefix). Call it before the first route is added.
 * The list fills while plugins load and is complete once the app is ready.
 */
export function recordRoutes(app: FastifyInstance): readonly RouteEntry[] {
  const routes: RouteEntry[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, scope: r.config?.scope, doc: r.config?.openapi });
  });
  return routes;
}
