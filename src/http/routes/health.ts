import type { FastifyInstance } from 'fastify';

/**
 * Liveness and readiness for orchestrators, so no token is needed. Readiness is the truth an
 * orchestrator routes by: 503 while the database does not answer (an outage), while no worker is
 * alive, and once shutdown has begun (the lame-duck drain), so traffic moves elsewhere
 * while the requests already here are drained.
 */
export function healthRoutes(app: FastifyInstance, opts: { ping: () => Promise<void>; workerAlive: () => Promise<boolean> }) {
  const pub = { config: { scope: 'public' as const } };
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.get('/healthz', pub, async () => ({ status: 'ok' }));
  app.get('/readyz', pub, async (_req, reply) => {
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
