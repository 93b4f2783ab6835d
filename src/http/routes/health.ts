import type { FastifyInstance } from 'fastify';

/** Liveness and readiness (issue 2 §8); no token needed (conventions). */
export function healthRoutes(app: FastifyInstance, opts: { ping: () => Promise<void>; workerAlive: () => Promise<boolean> }) {
  const pub = { config: { scope: 'public' as const } };
  app.get('/healthz', pub, async () => ({ status: 'ok' }));
  app.get('/readyz', pub, async (_req, reply) => {
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
