import type { FastifyInstance, FastifyReply } from 'fastify';
import { ScimError } from '../../core/errors.js';
import type { ProvisioningCtx } from '../../provisioning/context.js';
import { ENDPOINTS, RESOURCE_TYPE_NAMES, type ResourceTypeName } from '../../scim/resource-types.js';
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
import { ACCEPTED, described, scimAnswer, scimBody, scimError, type RouteDoc } from '../openapi/route-doc.js';

interface IdParams {
  id: string;
}

/** The OpenAPI descriptions of one resource type's routes (RFC 7644 §3.2–3.6). */
function resourceDocs(type: ResourceTypeName): Record<'list' | 'get' | 'create' | 'replace' | 'patch' | 'delete', RouteDoc> {
  const tags = [`${type}s`];
  const resource = { description: `The ${type}, with its ETag.`, body: scimAnswer(type), headers: ['ETag' as const] };
  const missing = scimError(`No ${type} with this id.`);
  const stale = scimError('If-Match names another version (RFC 7644 §3.14).');
  const invalid = scimError('The body or a parameter is invalid (scimType says how).');
  return {
    list: {
      summary: `List or filter ${type}s`,
      description: 'RFC 7644 §3.4.2: filter, sort, index or cursor (RFC 9865) pagination, attribute selection.',
      tags,
      parameters: ['filter', 'sortBy', 'sortOrder', 'startIndex', 'count', 'cursor', 'attributes', 'excludedAttributes'],
      responses: { '200': { description: `A page of ${type}s.`, body: scimAnswer(`${type}ListResponse`) }, '400': invalid },
    },
    get: {
      summary: `Read a ${type}`,
      tags,
      parameters: ['attributes', 'excludedAttributes', 'IfNoneMatch'],
      responses: { '200': resource, '304': { description: 'Not modified: If-None-Match holds its ETag.', headers: ['ETag'] }, '404': missing },
    },
    create: {
      summary: `Create a ${type}`,
      description: 'RFC 7644 §3.3. `Prefer: respond-async` runs it in the background (RFC 9967 §2.5.1).',
      tags,
      parameters: ['Prefer', 'attributes', 'excludedAttributes'],
      body: scimBody(type),
      responses: {
        '201': { ...resource, description: `Created: the ${type} (none with Prefer: return=minimal), at Location.`, headers: ['Location', 'ETag', 'Preference-Applied'] },
        '202': ACCEPTED,
        '400': invalid,
        '409': scimError('uniqueness: a unique attribute is taken.'),
      },
    },
    replace: {
      summary: `Replace a ${type}`,
      description: 'RFC 7644 §3.5.1.',
      tags,
      parameters: ['Prefer', 'IfMatch', 'attributes', 'excludedAttributes'],
      body: scimBody(type),
      responses: { '200': resource, '202': ACCEPTED, '204': { description: 'Replaced (Prefer: return=minimal).', headers: ['ETag'] }, '400': invalid, '404': missing, '412': stale },
    },
    patch: {
      summary: `Modify a ${type}`,
      description: 'RFC 7644 §3.5.2: add, remove and replace operations.',
      tags,
      parameters: ['Prefer', 'IfMatch', 'attributes', 'excludedAttributes'],
      body: scimBody('PatchOp'),
      responses: { '200': resource, '202': ACCEPTED, '204': { description: 'Modified, no body.', headers: ['ETag'] }, '400': invalid, '404': missing, '412': stale },
    },
    delete: {
      summary: `Delete a ${type}`,
      description: 'RFC 7644 §3.6.',
      tags,
      parameters: ['Prefer', 'IfMatch'],
      responses: { '202': ACCEPTED, '204': { description: 'Deleted.' }, '404': missing, '412': stale },
    },
  };
}
/** Users and Groups CRUD (RFC 7644 §3.3–3.6); one registration per resource type. */
export function resourceRoutes(app: FastifyInstance, opts: { ctx: () => ProvisioningCtx; maxResults: number; async: () => AsyncDeps }) {
  for (const type of RESOURCE_TYPE_NAMES) {
    const base = ENDPOINTS[type];
    const doc = resourceDocs(type);

    app.get(base, described('scim:read', doc.list), async (req, reply) => {
      const q = queryOf(req);
      return sendList(reply, opts.ctx(), [type], listParamsOf(q), selectionOf(q), opts.maxResults);
    });

    app.get<{ Params: IdParams }>(`${base}/:id`, described('scim:read', doc.get), async (req, reply) => {
      const ctx = opts.ctx();
      const sel = selectionOf(queryOf(req));
      const { resource, version } = await getResource(ctx.storage, ctx.baseUrl, type, req.params.id, { members: wantsMembers(sel), groups: wantsGroups(sel), maxMembers: ctx.maxMembers });
      if (matchesIfNoneMatch(req.headers['if-none-match'], version)) return reply.code(304).header('etag', resource.meta.version).send();
      return sendResource(reply, 200, resource, sel);
    });

    /** Prefer: respond-async (RFC 9967 §2.5.1.1) hands the operation to the worker; otherwise nothing changes. */
    const asyncPrefs = (req: { headers: Record<string, string | string[] | undefined> }) => parsePrefer(req.headers.prefer, req.headers['x-scim-request-mode']);
    const ifMatchOf = (req: { headers: Record<string, string | string[] | undefined> }) => req.headers['if-match'] as string | undefined;

    app.post(base, described('scim:write', doc.create), async (req, reply) => {
      const prefs = asyncPrefs(req);
      if (prefs.respondAsync) return answerAsync(opts.async(), req, reply, { method: 'POST', type, body: req.body } satisfies OperationRequest, prefs);
      const ctx = opts.ctx();
      return answerWrite(reply, ctx, 'POST', await createResource(ctx, type, req.body), prefs, selectionOf(queryOf(req)));
    });

    app.put<{ Params: IdParams }>(`${base}/:id`, described('scim:write', doc.replace), async (req, reply) => {
      const prefs = asyncPrefs(req);
      const op: OperationRequest = { method: 'PUT', type, id: req.params.id, body: req.body, ifMatch: ifMatchOf(req) };
      if (prefs.respondAsync) return answerAsync(opts.async(), req, reply, op, prefs);
      const ctx = opts.ctx();
      return answerWrite(reply, ctx, 'PUT', await replaceResource(ctx, type, req.params.id, req.body, { ifMatch: op.ifMatch }), prefs, selectionOf(queryOf(req)));
    });

    app.patch<{ Params: IdParams }>(`${base}/:id`, described('scim:write', doc.patch), async (req, reply) => {
      const prefs = asyncPrefs(req);
      const op: OperationRequest = { method: 'PATCH', type, id: req.params.id, body: req.body, ifMatch: ifMatchOf(req) };
      if (prefs.respondAsync) return answerAsync(opts.async(), req, reply, op, prefs);
      const ctx = opts.ctx();
      return answerWrite(reply, ctx, 'PATCH', await patchResource(ctx, type, req.params.id, req.body, { ifMatch: op.ifMatch }), prefs, selectionOf(queryOf(req)));
    });

    app.delete<{ Params: IdParams }>(`${base}/:id`, described('scim:write', doc.delete), async (req, reply) => {
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
