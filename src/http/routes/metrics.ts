import type { FastifyInstance } from 'fastify';
import { streamGauges, type AppMetrics } from '../../core/app-metrics.js';
import type { Clock } from '../../core/clock.js';
import { PROMETHEUS_CONTENT_TYPE } from '../../core/metrics.js';
import type { Storage } from '../../storage/index.js';
import { described } from '../openapi/route-doc.js';

/** This process's counters, then the per-stream gauges read from the database now. */
export async function scrapeMetrics(d: { metrics: Pick<AppMetrics, 'registry'>; clock: Clock; storage: Pick<Storage, 'events' | 'changes'> }): Promise<string> {
  const stats = await d.storage.events.statsByFeed();
  return d.metrics.registry.render() + streamGauges(stats, d.clock.now(), await d.storage.changes.backlog());
}

/** Conventions: `/metrics` on the main port needs a token with `metrics:read`. */
export function metricsRoutes(app: FastifyInstance, opts: { scrape: () => Promise<string> }) {
  const doc = described('metrics:read', {
    summary: 'Prometheus metrics',
    description: "This process's counters and histograms, then per-stream gauges read from the database.",
    tags: ['Service'],
    responses: { '200': { description: 'Prometheus text exposition format 0.0.4.', body: { media: [PROMETHEUS_CONTENT_TYPE] } } },
  });
  app.get('/metrics', doc, async (_req, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(await opts.scrape()));
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * scimcast_http_requests_total: labelled by the route pattern (`/scim/v2/Users/:id`), never the
 * raw URL, and unknown methods fold into "OTHER", so the number of series stays bounded.
 */
export function countRequests(app: FastifyInstance, counter: AppMetrics['httpRequests']) {
  app.addHook('onResponse', async (req, reply) => {
    counter.inc({
      method: METHODS.has(req.method) ? req.method : 'OTHER',
      route: req.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });
}
