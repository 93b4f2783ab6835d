import type { MemberRef, NewMembers, ResourceRow } from '../storage/index.js';
import { parseResourceInput } from '../scim/resource-input.js';
import type { ProvisioningCtx } from './context.js';
import { resourceLocation, type ResourceTypeName } from '../scim/resource-types.js';
import { checkIfMatch } from './etag.js';
import { checkMembersExist, membersOf } from './members.js';
import type { Change, Outcome } from './outcome.js';
import { passwordsIn, prehash, protectPassword, type PasswordHasher } from './password.js';
import { loadRow, represent } from './read.js';
import { toScimResource, type ScimResource } from './representation.js';

/** The columns kept beside the document for indexed filters and uniqueness. */
export function indexedColumns(type: ResourceTypeName, doc: Record<string, unknown>) {
  return {
    userName: type === 'User' ? (doc.userName as string) : null,
    externalId: typeof doc.externalId === 'string' ? doc.externalId : null,
    displayName: typeof doc.displayName === 'string' ? doc.displayName : null,
    active: typeof doc.active === 'boolean' ? doc.active : null,
  };
}

/** Split the Group `members` out of a document whose password is already hashed: membership lives in its own table. */
export function splitMembers(type: ResourceTypeName, doc: Record<string, unknown>): { doc: Record<string, unknown>; members: NewMembers | undefined } {
  if (type !== 'Group') return { doc, members: undefined };
  const { members, ...rest } = doc;
  return { doc: rest, members: membersOf(members) };
}

/**
 * Members with their stored display, as a sorted list to compare (order is not compared). Ids are
 * uuids (no space), so `id` and `id display` never collide.
 */
const memberSet = (ms: readonly { value: string; display: string | null }[]) => ms.map((m) => (m.display === null ? m.value : `${m.value} ${m.display}`)).sort();

/** The document as stored: password hashed (password.ts), Group members split out. */
export async function storedDoc(type: ResourceTypeName, doc: Record<string, unknown>, passwords: PasswordHasher) {
  return splitMembers(type, type === 'User' ? await protectPassword(doc, passwords) : doc);
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

/**
 * The `attributes` of a :notice event: those "created or modified in the request" (RFC 9967 §2.4,
 * Figure 5), compared on the stored documents so that `password` (never returned) counts, in the
 * request's order. A create also names `id`, which it assigned. Group membership is compared apart.
 */
export function noticeAttributes(before: Record<string, unknown> | undefined, after: Record<string, unknown>, membersChanged: boolean): string[] {
  const keys = [...new Set([...Object.keys(after), ...Object.keys(before ?? {})])];
  const changed = keys.filter((k) => k !== 'schemas' && !sameJson(before?.[k], after[k]));
  const out = before === undefined ? ['id', ...changed] : changed;
  return membersChanged ? [...out, 'members'] : out;
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
  const { doc: input } = parseResourceInput(type, body, { mode: 'create', coerceStringBooleans: ctx.compat.stringBooleans });
  // Hashed before the transaction opens: the hash waits its turn in the pool without holding a connection.
  const { doc, members: newMembers } = await storedDoc(type, input, ctx.passwords);
  const memberCount = newMembers?.ids.length ?? 0;
  const id = ctx.ids.uuid();
  const now = ctx.clock.now();
  const row: ResourceRow = { id, resourceType: type, ...indexedColumns(type, doc), doc, version: 1, created: now, lastModified: now };
  const created = (members: MemberRef[]): Change => ({
    kind: 'create',
    type,
    id,
    before: undefined,
    after: toScimResource(ctx.baseUrl, row, members),
    attributes: noticeAttributes(undefined, doc, memberCount > 0),
  });
  if (memberCount === 0 && ctx.outboxRows) {
    // Nothing to check against other rows: the row and its outbox row go in one statement, atomic
    // on its own, so no transaction is opened for it. A new user is in no group and a new group
    // without members has none: nothing is read back.
    const change = created([]);
    await ctx.storage.writes.create(row, ctx.outboxRows([{ change, txn: ctx.txn ?? { base: ctx.ids.txn() } }]));
    return outcome(ctx, 201, change);
  }
  return ctx.storage.withTx(async (s) => {
    await s.resources.insert(row);
    // A new group's members are exactly the ones just checked: nothing is read back.
    const members = newMembers ? await checkMembersExist(s, id, newMembers, ctx.compat.memberDisplay) : [];
    if (newMembers) await s.members.add(id, newMembers);
    const change = created(members);
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
  // The body is validated only against the locked row (immutable attributes), but its password is
  // known now: hashed before the row lock is taken, not while holding it.
  const passwords = await prehash(ctx.passwords, passwordsIn('PUT', type, body));
  return ctx.storage.withTx(async (s) => {
    const current = await loadRow(s, type, id, true);
    checkIfMatch(opts.ifMatch, current.version);
    // A group's members are not read (as for PATCH and DELETE): the PUT body lists the new ones,
    // and the old ones come back from the statement that removes them.
    const before = await represent(s, ctx.baseUrl, current, { members: false });
    const { doc: input } = parseResourceInput(type, body, { mode: 'replace', existing: before, coerceStringBooleans: ctx.compat.stringBooleans });
    const { doc, members: newMembers } = await storedDoc(type, input, passwords);
    const row: ResourceRow = { ...current, ...indexedColumns(type, doc), doc, version: current.version + 1, lastModified: ctx.clock.now() };
    await s.resources.update(row);
    let membersChanged = false;
    let after: ScimResource;
    if (newMembers) {
      const members = await checkMembersExist(s, id, newMembers, ctx.compat.memberDisplay);
      const beforeMembers = await s.members.clear(id);
      await s.members.add(id, newMembers);
      // A member whose sent display changed counts: it reads back differently.
      const stored = newMembers.ids.map((value) => ({ value, display: newMembers.displays?.get(value) ?? null }));
      membersChanged = !sameJson(memberSet(beforeMembers), memberSet(stored));
      after = toScimResource(ctx.baseUrl, row, members);
    } else {
      after = await represent(s, ctx.baseUrl, row);
    }
    const change: Change = { kind: 'put', type, id, before, after, attributes: noticeAttributes(current.doc as Record<string, unknown>, doc, membersChanged) };
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
    return { status: 204, type, id, location: resourceLocation(ctx.baseUrl, type, id), version: undefined, resource: undefined, change };
  });
}
