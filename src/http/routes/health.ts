import type { FastifyInstance } from 'fastify';
import { described, jsonBody, type ResponseDoc } from '../openapi/route-doc.js';

const readiness: ResponseDoc = { description: 'Ready: the database and the worker answer.', body: jsonBody('Readiness') };

/**
 * Liveness and readiness for orchestrators, so no token is needed. Readiness is the truth an
 * orchestrator routes by: 503 while the database does not answer (an outage), while no worker is
 * alive, and once shutdown has begun (the lame-duck drain), so traffic moves elsewhere
 * while the requests already here are drained.
 */
export function healthRoutes(app: FastifyInstance, opts: { ping: () => Promise<void>; workerAlive: () => Promise<boolean> }) {
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  const liveness = described('public', {
    summary: 'Liveness',
    description: 'The process answers HTTP.',
    tags: ['Service'],
    responses: { '200': { description: 'Alive.', body: jsonBody('Health') } },
  });
  app.get('/healthz', liveness, async () => ({ status: 'ok' }));

  const readyz = described('public', {
    summary: 'Readiness',
    description: 'Whether to route traffic here: the database answers, a worker is alive, and shutdown has not begun.',
    tags: ['Service'],
    responses: { '200': readiness, '503': { ...readiness, description: 'Not ready: the database or the worker is unreachable, or shutdown has begun.' } },
  });
  app.get('/readyz', readyz, async (_req, reply) => {
    if (draining) return reply.code(503).send({ status: 'shutting down' });
    let database = 'ok';
    try {
      await opts.ping();
    } catch {
      database = 'unreachable';
    }
    const worker = database === 'ok' && (await opts.workerAlive().catch(() => false)) ? 'ok' : 'unreachable';
    const ready = database === 'ok' && worker === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', database, worker });
  });
}
