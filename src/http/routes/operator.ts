import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../core/clock.js';
import { signingKeyList } from '../../events/key-list.js';
import { operatorHealth, type HealthProbes } from '../../feeds/health.js';
import type { Storage } from '../../storage/index.js';

/**
 * Operator views the console reads (docs/operating.md): the signing keys (scope `admin`, as the
 * key commands are operator actions) and the service's health with worker heartbeats and backlog
 * totals (scope `metrics:read`, the same audience as /metrics, which already shows those figures).
 */
export function operatorRoutes(app: FastifyInstance, opts: { ctx: () => { storage: Storage; clock: Clock }; probes: HealthProbes }) {
  const admin = { config: { scope: 'admin' as const } };
  const metrics = { config: { scope: 'metrics:read' as const } };
  app.get('/admin/keys', admin, async () => signingKeyList(opts.ctx()));
  app.get('/admin/health', metrics, async () => operatorHealth(opts.ctx(), opts.probes));
}
