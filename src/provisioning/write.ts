import type { ResourceRow } from '../storage/index.js';
import { parseResourceInput } from '../scim/resource-input.js';
import { resourceLocation, type ProvisioningCtx, type ResourceTypeName } from './context.js';
import { checkIfMatch, etagOf } from './etag.js';
import { checkMembersExist, memberIdsOf } from './members.js';
import type { Change, Outcome } from './outcome.js';
import { protectPassword } from './password.js';
import { loadRow, represent } from './read.js';

function indexed(type: ResourceTypeName, doc: Record<string, unknown>) {
  return {
    userName: type === 'User' ? (doc.userName as string) : null,
    externalId: typeof doc.externalId === 'string' ? doc.externalId : null,
    displayName: typeof doc.displayName === 'string' ? doc.displayName : null,
    active: typeof doc.active === 'boolean' ? doc.active : null,
  };
}

/** Split the Group `members` out of the document: membership lives in its own table. */
function splitMembers(type: ResourceTypeName, doc: Record<string, unknown>) {
  if (type !== 'Group') return { doc: protectPassword(doc), memberIds: undefined };
  const { members, ...rest } = doc;
  return { doc: rest, memberIds: memberIdsOf(members) };
}

function changedAttributes(before: Record<string, unknown> | undefined, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after)]);
  return [...keys].filter((k) => !['meta', 'id', 'schemas'].includes(k) && JSON.stringify(before?.[k]) !== JSON.stringify(after[k]));
}

function outcome(ctx: ProvisioningCtx, status: number, change: Change): Outcome {
  const res = change.after;
  return {
    status,
    type: change.type,
    id: change.id,
    location: resourceLocation(ctx.baseUrl, change.type, change.id),
    version: res ? (res.meta.version as string) : undefined,
    resource: res,
    change,
  };
}

/** POST /{type} (RFC 7644 §3.3). */
export async function createResource(ctx: ProvisioningCtx, type: ResourceTypeName, body: unknown): Promise<Outcome> {
  const { doc: input } = parseResourceInput(type, body, { mode: 'create', coerceStringBooleans: !ctx.compat.strict });
  const { doc, memberIds } = splitMembers(type, input);
  const id = ctx.ids.uuid();
  const now = ctx.clock.now();
  return ctx.storage.withTx(async (s) => {
    const row: ResourceRow = { id, resourceType: type, ...indexed(type, doc), doc, version: 1, created: now, lastModified: now };
    await s.resources.insert(row);
    if (memberIds) {
      await checkMembersExist(s, id, memberIds);
      await s.members.add(id, memberIds);
    }
    const after = await represent(s, ctx.baseUrl, row);
    const change: Change = { kind: 'create', type, id, before: undefined, after, attributes: changedAttributes(undefined, after) };
    await ctx.onChange?.(s, change, ctx.txn ?? { base: ctx.ids.txn() });
    return outcome(ctx, 201, change);
  });
}

/** PUT /{type}/{id} (RFC 7644 §3.5.1): replace, with immutable checks against the stored state. */
export async function replaceResource(
  ctx: ProvisioningCtx,
  type: ResourceTypeName,
  id: string,
  body: unknown,
  opts: { ifMatch?: string | undefined } = {},
): Promise<Outcome> {
  return ctx.storage.withTx(async (s) => {
    const current = await loadRow(s, type, id, true);
    checkIfMatch(opts.ifMatch, current.version);
    const before = await represent(s, ctx.baseUrl, current);
    const { doc: input } = parseResourceInput(type, body, { mode: 'replace', existing: before, coerceStringBooleans: !ctx.compat.strict });
    const { doc, memberIds } = splitMembers(type, input);
    const row: ResourceRow = { ...current, ...indexed(type, doc), doc, version: current.version + 1, lastModified: ctx.clock.now() };
    await s.resources.update(row);
    if (memberIds) {
      await checkMembersExist(s, id, memberIds);
      await s.members.clear(id);
      await s.members.add(id, memberIds);
    }
    const after = await represent(s, ctx.baseUrl, row);
    const change: Change = { kind: 'put', type, id, before, after, attributes: changedAttributes(before, after) };
    await ctx.onChange?.(s, change, ctx.txn ?? { base: ctx.ids.txn() });
    return outcome(ctx, 200, change);
  });
}

/** DELETE /{type}/{id} (RFC 7644 §3.6). */
export async function deleteResource(
  ctx: ProvisioningCtx,
  type: ResourceTypeName,
  id: string,
  opts: { ifMatch?: string | undefined } = {},
): Promise<Outcome> {
  return ctx.storage.withTx(async (s) => {
    const current = await loadRow(s, type, id, true);
    checkIfMatch(opts.ifMatch, current.version);
    const before = await represent(s, ctx.baseUrl, current, { members: false });
    await s.resources.delete(type, id);
    const change: Change = { kind: 'delete', type, id, before, after: undefined, attributes: [] };
    await ctx.onChange?.(s, change, ctx.txn ?? { base: ctx.ids.txn() });
    return { status: 204, type, id, location: resourceLocation(ctx.baseUrl, type, id), version: etagOf(current.version), resource: undefined, change };
  });
}
