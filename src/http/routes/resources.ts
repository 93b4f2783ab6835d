import type { FastifyInstance, FastifyReply } from 'fastify';
import { ScimError } from '../../core/errors.js';
import type { ProvisioningCtx } from '../../provisioning/context.js';
import { ENDPOINTS, RESOURCE_TYPE_NAMES } from '../../scim/resource-types.js';
import { matchesIfNoneMatch } from '../../provisioning/etag.js';
import { listParamsOf, sendList } from './search.js';
import { getResource } from '../../provisioning/read.js';
import { createResource, deleteResource, replaceResource } from '../../provisioning/write.js';
import { patchResource } from '../../provisioning/patch.js';
import { hasSelection, selectionOf, wantsGroups, wantsMembers, type Selection } from '../selection.js';
import { sendOutcome, sendResource, sendWrite } from '../respond.js';
import { writeAnswer, type WriteMethod } from '../return-preference.js';
import type { Outcome } from '../../provisioning/outcome.js';
import { parsePrefer, type Preferences } from '../../async/prefer.js';
import type { AsyncDeps } from '../../async/deps.js';
import type { OperationRequest } from '../../provisioning/operation.js';
import { answerAsync } from './async.js';
import { integerParam, queryOf } from '../query.js';

interface IdParams {
  id: string;
}
/** Users and Groups CRUD (RFC 7644 §3.3–3.6); one registration per resource type. */
export function resourceRoutes(app: FastifyInstance, opts: { ctx: () => ProvisioningCtx; maxResults: number; async: () => AsyncDeps }) {
  for (const type of RESOURCE_TYPE_NAMES) {
    const base = ENDPOINTS[type];
    const read = { config: { scope: 'scim:read' as const } };
    const write = { config: { scope: 'scim:write' as const } };

    app.get(base, read, async (req, reply) => {
      const q = queryOf(req);
      return sendList(reply, opts.ctx(), [type], listParamsOf(q), selectionOf(q), opts.maxResults);
    });

    app.get<{ Params: IdParams }>(`${base}/:id`, read, async (req, reply) => {
      const ctx = opts.ctx();
      const sel = selectionOf(queryOf(req));
      const { resource, version } = await getResource(ctx.storage, ctx.baseUrl, type, req.params.id, { members: wantsMembers(sel), groups: wantsGroups(sel), maxMembers: ctx.maxMembers });
      if (matchesIfNoneMatch(req.headers['if-none-match'], version)) return reply.code(304).header('etag', resource.meta.version).send();
      return sendResource(reply, 200, resource, sel);
    });

    /** Prefer: respond-async (RFC 9967 §2.5.1.1) hands the operation to the worker; otherwise nothing changes. */
    const asyncPrefs = (req: { headers: Record<string, string | string[] | undefined> }) => parsePrefer(req.headers.prefer, req.headers['x-scim-request-mode']);
    const ifMatchOf = (req: { headers: Record<string, string | string[] | undefined> }) => req.headers['if-match'] as string | undefined;

    app.post(base, write, async (req, reply) => {
      const prefs = asyncPrefs(req);
      if (prefs.respondAsync) return answerAsync(opts.async(), req, reply, { method: 'POST', type, body: req.body } satisfies OperationRequest, prefs);
      const ctx = opts.ctx();
      return answerWrite(reply, ctx, 'POST', await createResource(ctx, type, req.body), prefs, selectionOf(queryOf(req)));
    });

    app.put<{ Params: IdParams }>(`${base}/:id`, write, async (req, reply) => {
      const prefs = asyncPrefs(req);
      const op: OperationRequest = { method: 'PUT', type, id: req.params.id, body: req.body, ifMatch: ifMatchOf(req) };
      if (prefs.respondAsync) return answerAsync(opts.async(), req, reply, op, prefs);
      const ctx = opts.ctx();
      return answerWrite(reply, ctx, 'PUT', await replaceResource(ctx, type, req.params.id, req.body, { ifMatch: op.ifMatch }), prefs, selectionOf(queryOf(req)));
    });

    app.patch<{ Params: IdParams }>(`${base}/:id`, write, async (req, reply) => {
      const prefs = asyncPrefs(req);
      const op: OperationRequest = { method: 'PATCH', type, id: req.params.id, body: req.body, ifMatch: ifMatchOf(req) };
      if (prefs.respondAsync) return answerAsync(opts.async(), req, reply, op, prefs);
      const ctx = opts.ctx();
      return answerWrite(reply, ctx, 'PATCH', await patchResource(ctx, type, req.params.id, req.body, { ifMatch: op.ifMatch }), prefs, selectionOf(queryOf(req)));
    });

    app.delete<{ Params: IdParams }>(`${base}/:id`, write, async (req, reply) => {
      const prefs = asyncPrefs(req);
      const op: OperationRequest = { method: 'DELETE', type, id: req.params.id, ifMatch: ifMatchOf(req) };
      if (prefs.respondAsync) return answerAsync(opts.async(), req, reply, op, prefs);
      return sendOutcome(reply, await deleteResource(opts.ctx(), type, req.params.id, { ifMatch: op.ifMatch }));
    });
  }
}

/**
 * The synchronous answer to a write, by `Prefer: return=` (return-preference.ts). A Group PATCH
 * does not load its members, so a body asked for is read after the commit.
 */
async function answerWrite(reply: FastifyReply, ctx: ProvisioningCtx, method: WriteMethod, outcome: Outcome, prefs: Preferences, sel: Selection) {
  let answer = writeAnswer(method, outcome.status, prefs.return, hasSelection(sel));
  let resource = outcome.resource;
  if (answer.body && !resource) {
    try {
      resource = (await getResource(ctx.storage, ctx.baseUrl, outcome.type, outcome.id, { members: wantsMembers(sel), maxMembers: ctx.maxMembers })).resource;
    } catch (e) {
      // The change is committed; a group too large to return is still a success, and
      // RFC 7644 §3.5.2 lets any PATCH answer 204 without the resource. The preference was not
      // honoured, so Preference-Applied is not sent.
      if (!(e instanceof ScimError && e.scimType === 'tooMany')) throw e;
      answer = writeAnswer(method, outcome.status, undefined, false);
    }
  }
  return sendWrite(reply, answer, outcome, resource, sel);
}
