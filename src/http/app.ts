import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';
import type { Capabilities } from '../scim/service-provider-config.js';
import { registerAuth } from './plugins/auth.js';
import { frameworkError, MAX_PARAM_LENGTH, registerErrorHandler } from './plugins/error-handler.js';
import { makeRateLimit } from './plugins/rate-limit.js';
import { registerQueryParams } from './plugins/query-params.js';
import { registerRequestText } from './plugins/request-text.js';
import { logOptions, type LogSink } from './log-options.js';
import { stdoutSink } from './log-sink.js';
import { RequestLog } from './request-log.js';
import { registerScimJson } from './plugins/scim-json.js';
import { discoveryRoutes } from './routes/discovery.js';
import { healthRoutes } from './routes/health.js';
import { countRequests, metricsRoutes, scrapeMetrics } from './routes/metrics.js';
import { resourceRoutes } from './routes/resources.js';
import { searchRoutes } from './routes/search.js';
import { ssfRoutes } from './routes/ssf.js';
import { asyncRoutes } from './routes/async.js';
import { bulkRoutes } from './routes/bulk.js';
import { openapiRoutes } from './routes/openapi.js';
import { recordRoutes } from './openapi/route-table.js';
import { operatorRoutes } from './routes/operator.js';
import { consoleRoutes } from './routes/console.js';
import { EMITTED_EVENT_URIS } from '../events/uris.js';

export function capabilitiesOf(d: Deps): Capabilities {
  return {
    patch: true,
    bulk: { maxOperations: d.config.bulk.maxOperations, maxPayloadSize: d.config.bulk.maxPayloadSize },
    filter: { maxResults: d.config.limits.filterMaxResults },
    sort: true,
    etag: true,
    jwt: d.config.jwt !== undefined,
    // RFC 9967 §4: "request", the server goes async only when the client asks. "long" would let it
    // go async unasked, answering 202 to a client that may not understand it.
    securityEvents: { asyncRequest: 'request', eventUris: EMITTED_EVENT_URIS },
  };
}

/**
 * Build the HTTP app from its dependencies; never listens (fastify/demo pattern). `scrape` is what
 * `/metrics` answers: this process's own unless it also answers for another (`scimcast start`).
 */
export function buildApp(d: Deps, opts: { logger?: boolean; logStream?: LogSink; scrape?: () => Promise<string> } = {}): FastifyInstance {
  const app = Fastify({
    // Without a sink from the caller, lines go to stdout batched per event-loop turn (log-sink.ts).
    logger: opts.logger === false ? false : logOptions(d.config.logLevel, opts.logStream ?? stdoutSink()),
    logController: new RequestLog(),
    frameworkErrors: (e, req, reply) => void frameworkError(e, req, reply),
    bodyLimit: d.config.limits.maxBodySize,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Graceful shutdown: a request that reached the server before or during the
    // drain is served (answered with Connection: close), not refused with fastify's non-SCIM 503.
    // The listener is closed first, so the drain ends; SCIMCAST_SHUTDOWN_TIMEOUT_MS bounds it.
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: false, maxParamLength: MAX_PARAM_LENGTH },
  });
  // Before any route: GET /openapi.json is generated from what is registered below.
  const routes = recordRoutes(app);
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  countRequests(app, d.metrics.httpRequests);
  registerScimJson(app, { maxDepth: d.config.limits.jsonMaxDepth });
  registerErrorHandler(app, {
    maxBodySize: d.config.limits.maxBodySize,
    bulkMaxPayloadSize: d.config.bulk.maxPayloadSize,
    statementTimeoutMs: d.config.limits.statementTimeoutMs,
  });
  // Token buckets around authentication: by address before it, by principal after.
  const rateLimit = d.config.rateLimit && makeRateLimit({ ...d.config.rateLimit, now: () => d.clock.now().getTime() });
  rateLimit?.beforeAuth(app);
  registerAuth(app, d.authenticate);
  rateLimit?.afterAuth(app);
  registerQueryParams(app);
  registerRequestText(app);
  healthRoutes(app, { ping: () => d.storage.ping(), workerAlive: d.workerAlive });
  metricsRoutes(app, { scrape: opts.scrape ?? (() => scrapeMetrics(d)) });
  app.register(
    async (scim) => {
      discoveryRoutes(scim, {
        baseUrl: d.config.baseUrl,
        capabilities: () => capabilitiesOf(d),
        coreServiceProviderConfig: d.config.compat.coreServiceProviderConfig,
        schemas: { memberDisplay: d.config.compat.memberDisplay },
      });
      resourceRoutes(scim, { ctx: () => ({ ...d.provisioning, txn: { base: d.ids.txn() } }), maxResults: d.config.limits.filterMaxResults, async: () => d.async });
      searchRoutes(scim, { ctx: () => d.provisioning, maxResults: d.config.limits.filterMaxResults });
      asyncRoutes(scim, { async: () => d.async });
      bulkRoutes(scim, {
        ctx: () => d.provisioning,
        async: () => d.async,
        maxOperations: d.config.bulk.maxOperations,
        maxPayloadSize: d.config.bulk.maxPayloadSize,
        txn: () => d.ids.txn(),
      });
    },
    { prefix: '/scim/v2' },
  );
  ssfRoutes(app, { streams: () => d.streams, poll: () => d.poll });
  openapiRoutes(app, { routes, baseUrl: d.config.baseUrl, jwt: d.config.jwt && { issuer: d.config.jwt.issuer, audience: d.config.jwt.audience } });
  operatorRoutes(app, {
    ctx: () => ({ storage: d.storage, clock: d.clock }),
    probes: { ping: () => d.storage.ping(), workerAlive: d.workerAlive, deadAfterMs: d.config.worker.deadAfterMs },
  });
  consoleRoutes(app);
  return app;
}
