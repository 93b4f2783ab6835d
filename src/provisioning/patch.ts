import { badRequest } from '../core/errors.js';
import { isUuid } from '../core/ids.js';
import { matchesFilter } from '../scim/filter/evaluate.js';
import { applyPatch, type MemberPatch } from '../scim/patch/apply.js';
import { parseResourceInput } from '../scim/resource-input.js';
import type { ResourceRow, Storage } from '../storage/index.js';
import type { ProvisioningCtx } from './context.js';
import { resourceLocation, type ResourceTypeName } from '../scim/resource-types.js';
import { checkIfMatch, etagOf, ifMatchHolds } from './etag.js';
import { checkMembersExist, missingMembers } from './members.js';
import type { Change, Outcome } from './outcome.js';
import { passwordsIn, prehash, protectPassword } from './password.js';
import { loadRow, represent } from './read.js';
import { indexedColumns } from './write.js';

/**
 * PATCH /{type}/{id} (RFC 7644 §3.5.2). The pure engine (scim/patch/apply.ts) turns the stored
 * document and the PatchOp into a new document plus member operations; this applies them in one
 * transaction with the change's SETs. Group membership changes touch only the member rows named,
 * so adding one member to a 100,000-member group costs one insert, not a rewrite.
 */
export async function patchResource(
  ctx: ProvisioningCtx,
  type: ResourceTypeName,
  id: string,
  body: unknown,
  opts: { ifMatch?: string | undefined } = {},
): Promise<Outcome> {
  // The stored document is known only under the row lock, but a password the PatchOp sets is
  // readable now: hashed before the lock is taken (a shape not recognised here is hashed below).
  const passwords = await prehash(ctx.passwords, passwordsIn('PATCH', type, body));
  if (type === 'Group' && ctx.outboxRows) {
    const added = await addMembersAlone(ctx, id, body, opts);
    if (added) return added;
  }
  let written: ResourceRow | undefined;
  const outcome = await ctx.storage.withTx(async (s) => {
    const current = await loadRow(s, type, id, true);
    checkIfMatch(opts.ifMatch, current.version);
    // A group's members are never loaded for a PATCH: the response is 204 for groups (below).
    const before = await represent(s, ctx.baseUrl, current, { members: false });
    // Strict mode (SCIMCAST_STRICT) also refuses removing a member by a filter that matches none.
    const result = applyPatch(type, current.doc as Record<string, unknown>, body, { ...ctx.compat, idempotentMemberRemove: !ctx.compat.strict });
    // `attributes` lists what actually changed (deep equality; jsonb does not keep key order).
    const docChanged = result.attributes.some((a) => a !== 'members');
    let version = current.version;
    const now = ctx.clock.now();
    let row: ResourceRow = current;
    if (docChanged) {
      const { doc: checked } = parseResourceInput(type, result.doc, { mode: 'replace', existing: before, coerceStringBooleans: ctx.compat.stringBooleans });
      const doc = checked.password !== undefined && checked.password !== (current.doc as Record<string, unknown>).password ? await protectPassword(checked, passwords) : checked;
      version = current.version + 1;
      row = { ...current, ...indexedColumns(type, doc), doc, version, lastModified: now };
      await s.resources.update(row);
    }
    const membersChanged = type === 'Group' && (await applyMembers(s, ctx.baseUrl, id, result.members, ctx.compat.memberDisplay));
    if (membersChanged && !docChanged) {
      version = await s.resources.touch(id, now);
      row = { ...current, version, lastModified: now };
    }
    const changed = docChanged || membersChanged;
    written = row;
    const after = changed || type === 'User' ? await represent(s, ctx.baseUrl, row, { members: false }) : before;
    const change: Change | undefined = changed ? { kind: 'patch', type, id, before, after, patchOp: body, attributes: result.attributes } : undefined;
    // A PATCH that changes nothing emits nothing and keeps the version (RFC 9967 §2.4: events report changes).
    if (change) await ctx.onChange?.(s, change, ctx.txn ?? { base: ctx.ids.txn() });
    return {
      // RFC 7644 §3.5.2: 200 with the resource, or 204. Groups answer 204 so a member change never
      // serialises the whole member list; Users answer 200 with the resource.
      status: type === 'Group' ? 204 : 200,
      type,
      id,
      location: resourceLocation(ctx.baseUrl, type, id),
      version: etagOf(version),
      resource: type === 'Group' ? undefined : after,
      change,
    };
  });
  if (type === 'Group' && written) ctx.recentGroups?.remember(written);
  return outcome;
}

/** Optimistic attempts of addMembersAlone before it leaves a much-contended group to the locking path. */
const ADD_ATTEMPTS = 3;

/**
 * The common Group PATCH, members added and nothing else, in two statements and no transaction:
 * the group is read without a lock, then one statement adds the members, bumps the version and
 * stores the outbox row, on condition that the group is still at the version read (otherwise it is
 * read again). Answers, errors and events are those of the locking path; the SET carries
 * version + 1, which the statement guarantees. Undefined when the PATCH is anything else.
 */
async function addMembersAlone(ctx: ProvisioningCtx, id: string, body: unknown, opts: { ifMatch?: string | undefined }): Promise<Outcome | undefined> {
  // The group as this process last wrote it, if it did: one attempt without the read. The hint
  // only saves the read; the statement below still writes nothing unless the group is at its
  // version, and an attempt on a stale hint is not counted (recent-groups.ts).
  let hint = ctx.recentGroups?.take(id);
  for (let attempt = 0; attempt < ADD_ATTEMPTS; ) {
    const fromHint = hint !== undefined;
    const current = hint ?? (await loadRow(ctx.storage, 'Group', id));
    hint = undefined;
    // An If-Match the hint fails may still hold for the stored group: read it before a 412.
    if (fromHint && !ifMatchHolds(opts.ifMatch, current.version)) continue;
    checkIfMatch(opts.ifMatch, current.version);
    const result = applyPatch('Group', current.doc as Record<string, unknown>, body, { ...ctx.compat, idempotentMemberRemove: !ctx.compat.strict });
    const m = result.members;
    const onlyAdds =
      m.add.length > 0 && !m.removeAll && !m.replaceWith && m.remove.length === 0 && m.removeWhere.length === 0 && (m.mustMatch?.length ?? 0) === 0 && result.attributes.every((a) => a === 'members');
    // Ids that are not uuids, or the group itself, are refused on the locking path with its messages.
    if (!onlyAdds || !m.add.every(isUuid) || m.add.includes(id)) return undefined;
    const before = await represent(ctx.storage, ctx.baseUrl, current, { members: false });
    const row: ResourceRow = { ...current, version: current.version + 1, lastModified: ctx.clock.now() };
    const after = await represent(ctx.storage, ctx.baseUrl, row, { members: false });
    const change: Change = { kind: 'patch', type: 'Group', id, before, after, patchOp: body, attributes: result.attributes };
    const changes = ctx.outboxRows!([{ change, txn: ctx.txn ?? { base: ctx.ids.txn() } }]);
    const r = await ctx.storage.writes.addMembers({ groupId: id, version: current.version, memberIds: m.add, displays: m.displays, lastModified: row.lastModified, changes });
    if (r.kind === 'moved') {
      if (!fromHint) attempt++;
      continue;
    }
    if (r.kind === 'missing') throw missingMembers(r.missing);
    const changed = r.added > 0;
    ctx.recentGroups?.remember(changed ? row : current);
    // Every id already a member (with the display sent, if one was): nothing changed, no event, the version stays (as on the locking path).
    return { status: 204, type: 'Group', id, location: resourceLocation(ctx.baseUrl, 'Group', id), version: etagOf(changed ? row.version : current.version), resource: undefined, change: changed ? change : undefined };
  }
  return undefined;
}

/** Returns true when membership changed. Order: wholesale reset, removals, additions. */
async function applyMembers(s: Storage, baseUrl: string, groupId: string, m: MemberPatch, fromName: boolean): Promise<boolean> {
  let changed = false;
  // Checked on the membership before the PATCH, for ids the operations themselves do not settle.
  for (const { ids, path } of m.mustMatch ?? []) {
    if ((await s.members.present(groupId, ids)).size === 0) throw badRequest('noTarget', `${path} matches no member (RFC 7644 §3.5.2.2)`);
  }
  if (m.replaceWith) {
    const members = { ids: m.replaceWith, displays: m.displays };
    await checkMembersExist(s, groupId, members, fromName);
    await s.members.clear(groupId);
    await s.members.add(groupId, members);
    changed = true;
  } else if (m.removeAll) {
    await s.members.clear(groupId);
    changed = true;
  }
  if ((await s.members.remove(groupId, m.remove)) > 0) changed = true;
  if (m.removeWhere.length > 0) {
    // Rare shapes (members[display eq "…"], members[type eq "Group"]): evaluated on the member list.
    const all = (await s.members.forGroups([groupId])).get(groupId) ?? [];
    for (const filter of m.removeWhere) {
      const hit = all
        .filter((x) => matchesFilter(filter, { value: x.value, display: x.display, type: x.type, $ref: resourceLocation(baseUrl, x.type, x.value) }, { type: 'Group', parent: 'members' }))
        .map((x) => x.value);
      if (hit.length === 0) throw badRequest('noTarget', 'the members filter matched no member (RFC 7644 §3.5.2.2)');
      await s.members.remove(groupId, hit);
      changed = true;
    }
  }
  if (m.add.length > 0) {
    const members = { ids: m.add, displays: m.displays };
    await checkMembersExist(s, groupId, members, fromName);
    if ((await s.members.add(groupId, members)) > 0) changed = true;
  }
  return changed;
}
