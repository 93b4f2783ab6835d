import { badRequest, notFound } from '../core/errors.js';
import type { MemberRef, ResourceRow, Storage } from '../storage/index.js';
import type { ResourceTypeName } from '../scim/resource-types.js';
import { toScimResource, type ScimResource } from './representation.js';

/**
 * What a read loads: Group members or not, and at most how many (SCIMCAST_MAX_MEMBERS_RETURNED);
 * a User's groups or not (default: loaded), as the response's attribute selection decides.
 */
export interface ReadOptions {
  readonly members: boolean;
  readonly maxMembers?: number | undefined;
  readonly groups?: boolean | undefined;
}

/** What a list page already read with its rows: each User's groups, by id. */
export interface Preloaded {
  readonly groups?: ReadonlyMap<string, MemberRef[]> | undefined;
}

/**
 * More members than one response may carry. Truncating would be wrong (a client that PUTs back
 * what it read would drop the rest), so the read is refused with RFC 7644 §3.12 `tooMany` ("more
 * results than the server is willing to calculate or process") and a way around it.
 */
function tooManyMembers(groups: readonly string[], max: number): Error {
  if (groups.length === 1) {
    const id = groups[0]!;
    return badRequest(
      'tooMany',
      `Group ${id} has more than ${max} members, more than this server returns in one response. Ask with excludedAttributes=members; ` +
        `page its User members with GET /Users?filter=groups.value eq "${id}", or test one member with GET /Groups?filter=id eq "${id}" and members.value eq "<member id>"`,
    );
  }
  return badRequest('tooMany', `The groups of this page have more than ${max} members together, more than this server returns in one response. Ask with excludedAttributes=members, or with a smaller count`);
}

export async function relatedOf(storage: Storage, rows: ResourceRow[], opts: ReadOptions, preloaded: Preloaded = {}) {
  const groups = rows.filter((r) => r.resourceType === 'Group').map((r) => r.id);
  const users = opts.groups === false || preloaded.groups ? [] : rows.filter((r) => r.resourceType === 'User').map((r) => r.id);
  if (opts.members && opts.maxMembers !== undefined && groups.length > 0) {
    // Counted first, and no further than the bound: a 1,000,000-member group is never loaded.
    if ((await storage.members.countUpTo(groups, opts.maxMembers + 1)) > opts.maxMembers) throw tooManyMembers(groups, opts.maxMembers);
  }
  const [members, groupsOf] = await Promise.all([
    opts.members ? storage.members.forGroups(groups) : Promise.resolve(new Map()),
    preloaded.groups ?? storage.members.groupsOf(users),
  ]);
  return (r: ResourceRow) => (r.resourceType === 'Group' ? members.get(r.id) : groupsOf.get(r.id));
}

export async function loadRow(storage: Storage, type: ResourceTypeName, id: string, forUpdate = false): Promise<ResourceRow> {
  const row = await storage.resources.get(type, id, { forUpdate });
  if (!row) throw notFound(`${type} ${id} not found`);
  return row;
}

export async function represent(storage: Storage, baseUrl: string, row: ResourceRow, opts: ReadOptions = { members: true }): Promise<ScimResource> {
  const related = await relatedOf(storage, [row], opts);
  return toScimResource(baseUrl, row, related(row));
}

/**
 * GET /{type}/{id} (RFC 7644 §3.4.1): the row and its members or groups in one statement.
 * `members: false` skips loading a large group's members, `groups: false` a User's groups.
 */
export async function getResource(
  storage: Storage,
  baseUrl: string,
  type: ResourceTypeName,
  id: string,
  opts: ReadOptions = { members: true },
): Promise<{ resource: ScimResource; version: number }> {
  const related = type === 'Group' ? opts.members : opts.groups !== false;
  const read = await storage.resources.read(type, id, { related, maxMembers: opts.maxMembers });
  if (!read) throw notFound(`${type} ${id} not found`);
  if (read.tooManyMembers) throw tooManyMembers([id], opts.maxMembers!);
  return { resource: toScimResource(baseUrl, read.row, read.related), version: read.row.version };
}
