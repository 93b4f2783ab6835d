import { badRequest } from '../core/errors.js';
import { matchesFilter } from '../scim/filter/evaluate.js';
import { applyPatch, type MemberPatch } from '../scim/patch/apply.js';
import { parseResourceInput } from '../scim/resource-input.js';
import type { ResourceRow, Storage } from '../storage/index.js';
import { resourceLocation, scimBase, ENDPOINTS, type ProvisioningCtx, type ResourceTypeName } from './context.js';
import { checkIfMatch, etagOf } from './etag.js';
import { checkMembersExist } from './members.js';
import type { Change, Outcome } from './outcome.js';
import { passwordsIn, prehash, protectPassword } from './password.js';
import { loadRow, represent } from './read.js';
import { indexedColumns } from './write.js';

/**
 * PATCH /{type}/{id} (RFC 7644 §3.5.2). The pure engine (scim/patch/apply.ts) turns the stored
 * document and the PatchOp into a new document plus member operations; this applies them in one
 * transaction with the change's SETs. Group membership changes touch only the member rows named,
 * so adding one member to a 100,000-member group costs one insert, not a rewrite (issue 3 §4).
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
  return ctx.storage.withTx(async (s) => {
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
    const membersChanged = type === 'Group' && (await applyMembers(s, ctx.baseUrl, id, result.members));
    if (membersChanged && !docChanged) {
      version = await s.resources.touch(id, now);
      row = { ...current, version, lastModified: now };
    }
    const changed = docChanged || membersChanged;
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
}

/** Returns true when membership changed. Order: wholesale reset, removals, additions. */
async function applyMembers(s: Storage, baseUrl: string, groupId: string, m: MemberPatch): Promise<boolean> {
  let changed = false;
  // Checked on the membership before the PATCH, for ids the operations themselves do not settle.
  for (const { ids, path } of m.mustMatch ?? []) {
    if ((await s.members.present(groupId, ids)).size === 0) throw badRequest('noTarget', `${path} matches no member (RFC 7644 §3.5.2.2)`);
  }
  if (m.replaceWith) {
    await checkMembersExist(s, groupId, m.replaceWith);
    await s.members.clear(groupId);
    await s.members.add(groupId, m.replaceWith);
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
        .filter((x) => matchesFilter(filter, { value: x.value, display: x.display, type: x.type, $ref: `${scimBase(baseUrl)}${ENDPOINTS[x.type]}/${x.value}` }, { type: 'Group', parent: 'members' }))
        .map((x) => x.value);
      if (hit.length === 0) throw badRequest('noTarget', 'the members filter matched no member (RFC 7644 §3.5.2.2)');
      await s.members.remove(groupId, hit);
      changed = true;
    }
  }
  if (m.add.length > 0) {
    await checkMembersExist(s, groupId, m.add);
    if ((await s.members.add(groupId, m.add)) > 0) changed = true;
  }
  return changed;
}
