import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ProvisioningCtx } from '../../provisioning/context.js';
import { ENDPOINTS, RESOURCE_TYPE_NAMES, type ResourceTypeName } from '../../scim/resource-types.js';
import { listResources, type ListParams } from '../../provisioning/list.js';
import { SCIM_CONTENT_TYPE } from '../plugins/scim-json.js';
import { project, selectionOf, wantsGroups, wantsMembers, type Selection } from '../selection.js';
import { integerParam, queryOf, type Query } from '../query.js';
import { parseSearchRequest } from '../../scim/messages/search-request.js';
import { described, scimAnswer, scimBody, scimError } from '../openapi/route-doc.js';

const ALL_TYPES: readonly ResourceTypeName[] = RESOURCE_TYPE_NAMES;

/**
 * Runs a list query and applies attributes/excludedAttributes to every resource (RFC 7644
 * §3.4.2.5); members are not even read when the selection leaves them out. Shared by GET
 * /{type} and the .search endpoints so both use one engine.
 */
export async function sendList(
  reply: FastifyReply,
  ctx: ProvisioningCtx,
  types: readonly ResourceTypeName[],
  params: ListParams,
  sel: Selection,
  maxResults: number,
): Promise<FastifyReply> {
  const body = await listResources(ctx, types, { ...params, members: wantsMembers(sel), groups: wantsGroups(sel) }, maxResults);
  body.Resources = body.Resources.map((r) => project(r.meta.resourceType as ResourceTypeName, r, sel));
  return reply.code(200).type(SCIM_CONTENT_TYPE).send(body);
}

/** The list parameters of a GET query (RFC 7644 §3.4.2, RFC 9865 `cursor`), for GET / and GET /{type} alike. */
export function listParamsOf(q: Query): ListParams {
  return {
    filter: q.filter,
    sortBy: q.sortBy,
    sortOrder: q.sortOrder,
    startIndex: integerParam(q, 'startIndex'),
    count: integerParam(q, 'count'),
    cursor: q.cursor,
  };
}

/** The SearchRequest body (scim/messages/search-request.ts) as list parameters and a selection. */
export function searchOf(body: unknown): { params: ListParams; sel: Selection } {
  const r = parseSearchRequest(body);
  const params: ListParams = { filter: r.filter, sortBy: r.sortBy, sortOrder: r.sortOrder, startIndex: r.startIndex, count: r.count, cursor: r.cursor };
  return { params, sel: { attributes: r.attributes, excludedAttributes: r.excludedAttributes } };
}

/**
 * POST /.search (root: Users and Groups together, RFC 7644 §3.4.3) and POST /{type}/.search.
 * Queries are reads, so they need scim:read like GET. Cursor pagination works at the root too:
 * both types live in one table, so one keyset order covers them.
 */
export function searchRoutes(app: FastifyInstance, opts: { ctx: () => ProvisioningCtx; maxResults: number }) {
  const invalid = scimError('The query is invalid (scimType says how).');
  /** One list schema per type; the root answers resources of every type. */
  const listOf = (types: readonly ResourceTypeName[]) => (types.length === 1 ? `${types[0]}ListResponse` : 'ListResponse');
  const searchDoc = (types: readonly ResourceTypeName[]) =>
    described('scim:read', {
      summary: types.length === 1 ? `Search ${types[0]}s` : 'Search every resource type',
      description: 'RFC 7644 §3.4.3: the query in a SearchRequest body, so it stays out of URLs and logs.',
      tags: types.length === 1 ? [`${types[0]}s`] : ['SCIM root'],
      body: scimBody('SearchRequest'),
      responses: { '200': { description: 'A page of results.', body: scimAnswer(listOf(types)) }, '400': invalid },
    });
  const route = (url: string, types: readonly ResourceTypeName[]) =>
    app.post(url, searchDoc(types), async (req, reply) => {
      const { params, sel } = searchOf(req.body);
      return sendList(reply, opts.ctx(), types, params, sel, opts.maxResults);
    });
  route('/.search', ALL_TYPES);
  // RFC 7644 §3.4.2.1: a GET query against the server root covers every resource type.
  const rootDoc = described('scim:read', {
    summary: 'List or filter every resource type',
    description: 'RFC 7644 §3.4.2.1: a query at the SCIM root covers Users and Groups together.',
    tags: ['SCIM root'],
    parameters: ['filter', 'sortBy', 'sortOrder', 'startIndex', 'count', 'cursor', 'attributes', 'excludedAttributes'],
    responses: { '200': { description: 'A page of resources.', body: scimAnswer('ListResponse') }, '400': invalid },
  });
  app.get('/', rootDoc, async (req, reply) => {
    const q = queryOf(req);
    return sendList(reply, opts.ctx(), ALL_TYPES, listParamsOf(q), selectionOf(q), opts.maxResults);
  });
  for (const type of ALL_TYPES) route(`${ENDPOINTS[type]}/.search`, [type]);
}
