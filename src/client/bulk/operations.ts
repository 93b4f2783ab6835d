import { endpointOf, type ImportItem } from './items.js';

/** A member as sent: a real id, or `bulkId:<x>` for a resource created in the same Bulk request. */
export interface WireMember {
  value: string;
  type?: string;
}

/** One operation, in RFC 7644 §3.7 BulkRequest shape; sent alone it is `method path` with `data`. */
export interface WireOp {
  method: 'POST' | 'PUT' | 'PATCH';
  path: string;
  bulkId?: string;
  data: Record<string, unknown>;
}

export const PATCH_OP_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const withMembers = (item: ImportItem, members: readonly WireMember[]) =>
  item.type === 'group' ? { ...item.resource, members: [...members] } : { ...item.resource };

/** POST: creates the item; `bulkId` lets later operations of the same request reference it. */
export function createOp(item: ImportItem, bulkId: string, members: readonly WireMember[]): WireOp {
  return { method: 'POST', path: endpointOf(item.type), bulkId, data: withMembers(item, members) };
}

/**
 * PUT: the item's externalId already exists on the server, so the row replaces that resource
 * (RFC 7644 §3.5.1): the file is the source of truth for the resource it names.
 */
export function replaceOp(item: ImportItem, id: string, members: readonly WireMember[]): WireOp {
  return { method: 'PUT', path: `${endpointOf(item.type)}/${encodeURIComponent(id)}`, data: withMembers(item, members) };
}

/** PATCH add of members (RFC 7644 §3.5.2.1): adding a member that is already there changes nothing. */
export function addMembersOp(groupId: string, members: readonly WireMember[]): WireOp {
  return {
    method: 'PATCH',
    path: `/Groups/${encodeURIComponent(groupId)}`,
    data: { schemas: [PATCH_OP_URN], Operations: [{ op: 'add', path: 'members', value: [...members] }] },
  };
}

/** The id at the end of a resource `location` (RFC 7644 §3.1: `…/Users/<id>`). */
export function idFromLocation(location: string | undefined): string | undefined {
  if (!location) return undefined;
  const path = location.split(/[?#]/)[0]!.replace(/\/+$/, '');
  const last = path.slice(path.lastIndexOf('/') + 1);
  if (!last) return undefined;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}
