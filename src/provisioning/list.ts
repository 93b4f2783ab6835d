import { badRequest } from '../core/errors.js';
import { parseFilter } from '../scim/filter/index.js';
import type { CursorPage, IndexPage } from '../storage/index.js';
import type { ProvisioningCtx } from './context.js';
import type { ResourceTypeName } from '../scim/resource-types.js';
import { relatedOf } from './read.js';
import { toScimResource, type ScimResource } from './representation.js';
import { listResponse, type ListResponse as ListResponseMessage } from '../scim/messages/list-response.js';
import type { SearchRequest } from '../scim/messages/search-request.js';


/**
 * Query parameters of GET /{type} and the members of a SearchRequest (RFC 7644 §3.4.2, §3.4.3).
 * `cursor` (RFC 9865): present, even empty, selects cursor pagination; '' asks for the first page.
 */
export interface ListParams extends Pick<SearchRequest, 'filter' | 'sortBy' | 'sortOrder' | 'startIndex' | 'count' | 'cursor'> {
  /** Skip loading Group members (not requested, or excluded). */
  members?: boolean;
  /** Skip loading User groups (not requested, or excluded). */
  groups?: boolean;
}

export type ListResponse = ListResponseMessage<ScimResource>;

/** RFC 7644 §3.4.2.3: "ascending" (the default) or "descending". */
function isDescending(sortOrder: string | undefined): boolean {
  if (sortOrder === undefined || sortOrder === '') return false;
  const v = sortOrder.toLowerCase();
  if (v !== 'ascending' && v !== 'descending') throw badRequest('invalidValue', `sortOrder must be "ascending" or "descending", not "${sortOrder}"`);
  return v === 'descending';
}

/** Negative counts are 0; more than maxResults is capped (RFC 7644 §3.4.2.4: a provider MAY return fewer). */
const clampCount = (count: number | undefined, maxResults: number) => Math.min(Math.max(0, count ?? maxResults), maxResults);

/**
 * RFC 9865 §2.3: `cursor` selects cursor pagination, `startIndex` (or neither: the default,
 * kept for existing clients per RFC 9865 §2.4) index pagination. Both at once is ambiguous.
 */
function pageOf(p: ListParams, count: number): IndexPage | CursorPage {
  if (p.cursor === undefined) return { method: 'index', startIndex: Math.max(1, p.startIndex ?? 1), count };
  if (p.startIndex !== undefined) throw badRequest('invalidValue', 'Use either startIndex (index pagination) or cursor (cursor pagination), not both');
  return { method: 'cursor', cursor: p.cursor, count };
}

function responseOf(page: IndexPage | CursorPage, total: number, Resources: ScimResource[], cursors: { nextCursor?: string; previousCursor?: string }): ListResponse {
  const out: ListResponse = listResponse({ totalResults: total, itemsPerPage: Resources.length, Resources });
  if (page.method === 'index') out.startIndex = page.startIndex;
  if (cursors.nextCursor !== undefined) out.nextCursor = cursors.nextCursor;
  if (cursors.previousCursor !== undefined) out.previousCursor = cursors.previousCursor;
  return out;
}

/**
 * GET /{type}, POST /{type}/.search and POST /.search (RFC 7644 §3.4.2, §3.4.3): the filter
 * is parsed here and compiled to SQL by storage; count is capped at filter.maxResults and
 * count=0 gives only totalResults.
 */
export async function listResources(ctx: ProvisioningCtx, types: readonly ResourceTypeName[], p: ListParams, maxResults: number): Promise<ListResponse> {
  const filter = p.filter ? parseFilter(p.filter, ctx.filterLimits) : undefined;
  const page = pageOf(p, clampCount(p.count, maxResults));
  const sortBy = p.sortBy === '' ? undefined : p.sortBy;
  const groups = p.groups ?? true;
  // A User's groups come with the page's rows, in the same statement.
  const result = await ctx.storage.resources.list({ types, filter, sortBy, descending: isDescending(p.sortOrder), page, userGroups: groups });
  const related = await relatedOf(ctx.storage, result.rows, { members: p.members ?? true, maxMembers: ctx.maxMembers, groups }, { groups: result.groups });
  const Resources = result.rows.map((r) => toScimResource(ctx.baseUrl, r, related(r)));
  return responseOf(page, result.total, Resources, result);
}
