import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../core/clock.js';
import { signingKeyList } from '../../events/key-list.js';
import { operatorHealth, type HealthProbes } from '../../feeds/health.js';
import type { Storage } from '../../storage/index.js';
import { described, jsonBody } from '../openapi/route-doc.js';

/**
 * Operator views the console reads (docs/operating.md): the signing keys (scope `admin`, as the
 * key commands are operator actions) and the service's health with worker heartbeats and backlog
 * totals (scope `metrics:read`, the same audience as /metrics, which already shows those figures).
 */
export function operatorRoutes(app: FastifyInstance, opts: { ctx: () => { storage: Storage; clock: Clock }; probes: HealthProbes }) {
  const keys = described('admin', {
    summary: 'Signing keys',
    description: 'The SET signing keys with their kid, algorithm, state (active, retired, revoked) and age. Never key material.',
    tags: ['Operator'],
    responses: { '200': { description: 'The keys, newest first.', body: jsonBody('SigningKeys') } },
  });
  app.get('/admin/keys', keys, async () => signingKeyList(opts.ctx()));

  const health = described('metrics:read', {
    summary: 'Service health',
    description: 'Readiness, database reachability, each worker with its last heartbeat, and backlog totals over every stream.',
    tags: ['Operator'],
    responses: { '200': { description: 'The health view (also while not ready: see `status`).', body: jsonBody('OperatorHealth') } },
  });
  app.get('/admin/health', health, async () => operatorHealth(opts.ctx(), opts.probes));
}
