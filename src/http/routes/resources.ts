import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../core/errors.js';
import { ENDPOINTS, type ProvisioningCtx, type ResourceTypeName } from '../../provisioning/context.js';
import { matchesIfNoneMatch } from '../../provisioning/etag.js';
import { listResources } from '../../provisioning/list.js';
import { getResource } from '../../provisioning/read.js';
import { createResource, deleteResource, replaceResource } from '../../provisioning/write.js';
import { sendOutcome, sendResource } from '../respond.js';
import { parsePrefer } from '../../async/prefer.js';
import type { AsyncDeps } from '../../async/execute.js';
import type { OperationRequest } from '../../async/operation.js';
import { answerAsync } from './async.js';
import { SCIM_CONTENT_TYPE } from '../plugins/scim-json.js';

interface IdParams {
  id: string;
}
interface ListQuery {
  filter?: string;
  startIndex?: string;
  count?: string;
  excludedAttributes?: string;
}

function intParam(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest('invalidValue', `${name} must be an integer`);
  return Number(v);
}

const excludesMembers = (q: { excludedAttributes?: string }) =>
  (q.excludedAttributes ?? '').split(',').some((a) => a.trim().toLowerCase() === 'members');

/** Users and Groups CRUD (RFC 7644 §3.3–3.6); one registration per resource type. */
export function resourceRoutes(app: FastifyInstance, opts: { ctx: () => ProvisioningCtx; maxResults: number; async: () => AsyncDeps }) {
  for (const type of ['User', 'Group'] as ResourceTypeName[]) {
    const base = ENDPOINTS[type];
    const read = { config: { scope: 'scim:read' as const } };
    const write = { config: { scope: 'scim:write' as const } };

    app.get<{ Querystring: ListQuery }>(base, read, async (req, reply) => {
      const q = req.query;
      const body = await listResources(
        opts.ctx(),
        type,
        { filter: q.filter, startIndex: intParam('startIndex', q.startIndex), count: intParam('count', q.count), members: !excludesMembers(q) },
        opts.maxResults,
      );
      return reply.type(SCIM_CONTENT_TYPE).send(body);
    });

    app.get<{ Params: IdParams; Querystring: ListQuery }>(`${base}/:id`, read, async (req, reply) => {
      const ctx = opts.ctx();
      const { resource, version } = await getResource(ctx.storage, ctx.baseUrl, type, req.params.id, { members: !excludesMembers(req.query) });
      if (matchesIfNoneMatch(req.headers['if-none-match'], version)) return reply.code(304).header('etag', resource.meta.version).send();
      return sendResource(reply, 200, resource);
    });

    /** Prefer: respond-async (RFC 9967 §2.5.1.1) hands the operation to the worker; otherwise nothing changes. */
    const asyncPrefs = (req: { headers: Record<string, string | string[] | undefined> }) => parsePrefer(req.headers.prefer, req.headers['x-scim-request-mode']);
    const ifMatchOf = (req: { headers: Record<string, string | string[] | undefined> }) => req.headers['if-match'] as string | undefined;

    app.post(base, write, async (req, reply) => {
      const prefs = asyncPrefs(req);
      if (prefs.respondAsync) return answerAsync(opts.async(), req, reply, { method: 'POST', type, body: req.body } satisfies OperationRequest, prefs);
      return sendOutcome(reply, await createResource(opts.ctx(), type, req.body));
    });

    app.put<{ Params: IdParams }>(`${base}/:id`, write, async (req, reply) => {
      const prefs = asyncPrefs(req);
      const op: OperationRequest = { method: 'PUT', type, id: req.params.id, body: req.body, ifMatch: ifMatchOf(req) };
      if (prefs.respondAsync) return answerAsync(opts.async(), req, reply, op, prefs);
      return sendOutcome(reply, await replaceResource(opts.ctx(), type, req.params.id, req.body, { ifMatch: op.ifMatch }));
    });

    app.delete<{ Params: IdParams }>(`${base}/:id`, write, async (req, reply) => {
      const prefs = asyncPrefs(req);
      const op: OperationRequest = { method: 'DELETE', type, id: req.params.id, ifMatch: ifMatchOf(req) };
      if (prefs.respondAsync) return answerAsync(opts.async(), req, reply, op, prefs);
      return sendOutcome(reply, await deleteResource(opts.ctx(), type, req.params.id, { ifMatch: op.ifMatch }));
    });
  }
}
