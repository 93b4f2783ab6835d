import type { MemberRef, ResourceRow } from '../storage/index.js';
import { omitEmptyMultiValued, stripNeverReturned } from '../scim/resource-output.js';
import { etagOf } from './etag.js';
import { resourceLocation, type ResourceTypeName } from '../scim/resource-types.js';

export type ScimResource = Record<string, unknown> & { id: string; meta: Record<string, unknown> };

/** `value`, then the derived `$ref` and `type`; `display` only when the member has one (member-view.ts). */
function memberJson(baseUrl: string, m: MemberRef) {
  const out: Record<string, unknown> = { value: m.value, $ref: resourceLocation(baseUrl, m.type, m.value), type: m.type };
  if (m.display !== null) out.display = m.display;
  return out;
}

/**
 * The SCIM representation of a stored row (RFC 7643 §3.1 meta complete, absolute location,
 * version = ETag). `related` is the group's members or the user's groups. Every response, list
 * page and :full SET is built here, so no multi-valued attribute leaves empty (RFC 7643 §2.5):
 * a group without members has no `members`.
 */
export function toScimResource(baseUrl: string, row: ResourceRow, related: MemberRef[] | undefined): ScimResource {
  const type = row.resourceType as ResourceTypeName;
  const doc = omitEmptyMultiValued(type, stripNeverReturned(type, row.doc as Record<string, unknown>));
  const { schemas, ...rest } = doc;
  const out: Record<string, unknown> = { schemas, id: row.id, ...rest };
  if (type === 'Group' && related && related.length > 0) out.members = related.map((m) => memberJson(baseUrl, m));
  if (type === 'User' && related && related.length > 0) out.groups = related.map((m) => ({ ...memberJson(baseUrl, m), type: 'direct' }));
  out.meta = {
    resourceType: type,
    created: row.created.toISOString(),
    lastModified: row.lastModified.toISOString(),
    location: resourceLocation(baseUrl, type, row.id),
    version: etagOf(row.version),
  };
  return out as ScimResource;
}
