import type { FastifyInstance, FastifyReply } from 'fastify';
import { badRequest } from '../../core/errors.js';
import { ENDPOINTS, type ProvisioningCtx, type ResourceTypeName } from '../../provisioning/context.js';
import { listResources, type ListParams } from '../../provisioning/list.js';
import { SCIM_CONTENT_TYPE } from '../plugins/scim-json.js';
import { project, selectionOf, wantsGroups, wantsMembers, type Selection } from '../selection.js';
import { integerParam, queryOf, type Query } from '../query.js';
import { isObject } from '../../core/is-object.js';

export const SEARCH_REQUEST_URN = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

const ALL_TYPES: readonly ResourceTypeName[] = ['User', 'Group'];

/** A body that does not fit the SearchRequest schema (RFC 7644 §3.12 Table 9 invalidSyntax). */
const invalidSyntax = (detail: string) => badRequest('invalidSyntax', `Invalid SearchRequest: ${detail}`);

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

/** Member names are case-insensitive like attribute names (RFC 7643 §2.1). */
function member(body: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : body[key];
}

function stringMember(body: Record<string, unknown>, name: string): string | undefined {
  const v = member(body, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidSyntax(`'${name}' must be a string`);
  return v;
}

function integerMember(body: Record<string, unknown>, name: string): number | undefined {
  const v = member(body, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalidSyntax(`'${name}' must be an integer`);
  return v;
}

/** RFC 7644 §3.4.3: attributes and excludedAttributes are multi-valued strings. */
function pathsMember(body: Record<string, unknown>, name: string): string[] | undefined {
  const v = member(body, name);
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((p) => typeof p === 'string')) throw invalidSyntax(`'${name}' must be an array of attribute paths`);
  const paths = (v as string[]).flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p !== '');
  return paths.length > 0 ? paths : undefined;
}

function checkSchemas(body: Record<string, unknown>): void {
  const schemas = member(body, 'schemas');
  const ok = Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SEARCH_REQUEST_URN.toLowerCase());
  if (!ok) throw invalidSyntax(`'schemas' must be ["${SEARCH_REQUEST_URN}"]`);
}

/** The SearchRequest body (RFC 7644 §3.4.3, plus RFC 9865 `cursor`) as list parameters and a selection. */
export function parseSearchRequest(body: unknown): { params: ListParams; sel: Selection } {
  if (!isObject(body)) throw invalidSyntax('the body must be a JSON object');
  checkSchemas(body);
  const params: ListParams = {
    filter: stringMember(body, 'filter'),
    sortBy: stringMember(body, 'sortBy'),
    sortOrder: stringMember(body, 'sortOrder'),
    startIndex: integerMember(body, 'startIndex'),
    count: integerMember(body, 'count'),
    cursor: stringMember(body, 'cursor'),
  };
  return { params, sel: { attributes: pathsMember(body, 'attributes'), excludedAttributes: pathsMember(body, 'excludedAttributes') } };
}

/**
 * POST /.search (root: Users and Groups together, RFC 7644 §3.4.3) and POST /{type}/.search.
 * Queries are reads, so they need scim:read like GET. Cursor pagination works at the root too:
 * both types live in one table, so one keyset order covers them.
 */
export function searchRoutes(app: FastifyInstance, opts: { ctx: () => ProvisioningCtx; maxResults: number }) {
  const read = { config: { scope: 'scim:read' as const } };
  const route = (url: string, types: readonly ResourceTypeName[]) =>
    app.post(url, read, async (req, reply) => {
      const { params, sel } = parseSearchRequest(req.body);
      return sendList(reply, opts.ctx(), types, params, sel, opts.maxResults);
    });
  route('/.search', ALL_TYPES);
  // RFC 7644 §3.4.2.1: a GET query against the server root covers every resource type.
  app.get('/', read, async (req, reply) => {
    const q = queryOf(req);
    return sendList(reply, opts.ctx(), ALL_TYPES, listParamsOf(q), selectionOf(q), opts.maxResults);
  });
  for (const type of ALL_TYPES) route(`${ENDPOINTS[type]}/.search`, [type]);
}
