import { badRequest } from '../core/errors.js';
import { eqCondition, type SimpleEq } from '../storage/index.js';
import type { ProvisioningCtx, ResourceTypeName } from './context.js';
import type { ScimResource } from './representation.js';
import { relatedOf } from './read.js';
import { toScimResource } from './representation.js';

export const LIST_RESPONSE_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export interface ListParams {
  filter?: string | undefined;
  startIndex?: number | undefined;
  count?: number | undefined;
  /** Skip loading members (excludedAttributes=members). */
  members?: boolean;
}

const SIMPLE_EQ = /^\s*(id|userName|externalId|displayName)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i;

/** `attr eq "value"` on the indexed attributes (issue 2 §6). */
export function parseSimpleEq(filter: string): SimpleEq {
  const m = SIMPLE_EQ.exec(filter);
  if (!m) throw badRequest('invalidFilter', `Unsupported filter "${filter}": use <id|userName|externalId|displayName> eq "<value>"`);
  const attr = (['id', 'userName', 'externalId', 'displayName'] as const).find((a) => a.toLowerCase() === m[1]!.toLowerCase())!;
  return { attr, value: JSON.parse(`"${m[2]}"`) as string };
}

/** GET /{type} (RFC 7644 §3.4.2): 1-based startIndex; count capped at filter.maxResults; count=0 gives only totalResults. */
export async function listResources(ctx: ProvisioningCtx, type: ResourceTypeName, p: ListParams, maxResults: number) {
  const startIndex = Math.max(1, p.startIndex ?? 1);
  const count = Math.min(Math.max(0, p.count ?? maxResults), maxResults);
  const where = p.filter ? eqCondition(parseSimpleEq(p.filter)) : undefined;
  const { total, rows } = await ctx.storage.resources.list(type, { where, startIndex, count });
  const related = await relatedOf(ctx.storage, rows, { members: p.members ?? true });
  const Resources: ScimResource[] = rows.map((r) => toScimResource(ctx.baseUrl, r, related(r)));
  return { schemas: [LIST_RESPONSE_URN], totalResults: total, startIndex, itemsPerPage: Resources.length, Resources };
}
