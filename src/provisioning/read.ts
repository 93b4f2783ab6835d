import { notFound } from '../core/errors.js';
import type { ResourceRow, Storage } from '../storage/index.js';
import type { ResourceTypeName } from './context.js';
import { toScimResource, type ScimResource } from './representation.js';

export async function relatedOf(storage: Storage, rows: ResourceRow[], opts: { members: boolean }) {
  const groups = rows.filter((r) => r.resourceType === 'Group').map((r) => r.id);
  const users = rows.filter((r) => r.resourceType === 'User').map((r) => r.id);
  const [members, groupsOf] = await Promise.all([
    opts.members ? storage.members.forGroups(groups) : Promise.resolve(new Map()),
    storage.members.groupsOf(users),
  ]);
  return (r: ResourceRow) => (r.resourceType === 'Group' ? members.get(r.id) : groupsOf.get(r.id));
}

export async function loadRow(storage: Storage, type: ResourceTypeName, id: string, forUpdate = false): Promise<ResourceRow> {
  const row = await storage.resources.get(type, id, { forUpdate });
  if (!row) throw notFound(`${type} ${id} not found`);
  return row;
}

export async function represent(storage: Storage, baseUrl: string, row: ResourceRow, opts = { members: true }): Promise<ScimResource> {
  const related = await relatedOf(storage, [row], opts);
  return toScimResource(baseUrl, row, related(row));
}

/** GET /{type}/{id} (RFC 7644 §3.4.1). `members: false` skips loading a large group's members. */
export async function getResource(
  storage: Storage,
  baseUrl: string,
  type: ResourceTypeName,
  id: string,
  opts = { members: true },
): Promise<{ resource: ScimResource; version: number }> {
  const row = await loadRow(storage, type, id);
  return { resource: await represent(storage, baseUrl, row, opts), version: row.version };
}
