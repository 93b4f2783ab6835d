import { badRequest } from '../core/errors.js';
import type { TxnRef } from '../events/uris.js';
import { parseResourceInput } from '../scim/resource-input.js';
import type { MemberRef, NewMembers, ResourceRow } from '../storage/index.js';
import type { ProvisioningCtx } from './context.js';
import { resourceLocation, type ResourceTypeName } from '../scim/resource-types.js';
import type { Change, Outcome } from './outcome.js';
import { toScimResource } from './representation.js';
import { memberRef } from './members.js';
import { protectPasswords } from './password.js';
import { noticeAttributes, splitMembers, indexedColumns } from './write.js';

const NO_MEMBERS: NewMembers = { ids: [] };

export interface NewResource {
  readonly type: ResourceTypeName;
  readonly body: unknown;
  /** The originating transaction of this operation's SETs (bulk: `<txn>:<index>`). */
  readonly txn: TxnRef;
}

/**
 * Many creations in one transaction with multi-row statements (bulk): the rows, their group
 * memberships and their SETs. The result is exactly what `createResource` would give for each, in
 * order. All or nothing: any error (validation, uniqueness, a missing member) fails the whole
 * batch, and the caller runs the operations one by one to report each error where it belongs.
 * Members must already exist (the bulk planner batches only operations whose references are
 * resolved), so each new group's member list is known without reading it back.
 */
export async function createMany(ctx: ProvisioningCtx, items: readonly NewResource[]): Promise<Outcome[]> {
  // Every body is validated before any password is hashed, so a bad one fails the batch at once.
  const inputs = items.map((it) => parseResourceInput(it.type, it.body, { mode: 'create', coerceStringBooleans: ctx.compat.stringBooleans }).doc);
  // Then hashed before the transaction opens: 2,000 passwords are minutes of scrypt at 1 core, which
  // must not be minutes of an open transaction (the worker path hands in hashes computed even
  // before its own transaction, async/bulk.ts).
  const hashed = await protectPasswords(inputs, ctx.passwords);
  const now = ctx.clock.now();
  const prepared = items.map((it, k) => {
    const { doc, members } = splitMembers(it.type, hashed[k]!);
    const row: ResourceRow = { id: ctx.ids.uuid(), resourceType: it.type, ...indexedColumns(it.type, doc), doc, version: 1, created: now, lastModified: now };
    return { it, row, doc, members: members ?? NO_MEMBERS };
  });
  return ctx.storage.withTx(async (s) => {
    const allMembers = [...new Set(prepared.flatMap((p) => p.members.ids))];
    const found = await s.resources.describe(allMembers);
    const missing = allMembers.filter((id) => !found.has(id));
    if (missing.length > 0) throw badRequest('invalidValue', `members refer to resources that do not exist: ${missing.slice(0, 5).join(', ')}`);
    await s.resources.insertMany(prepared.map((p) => p.row));
    await s.members.addMany(prepared.flatMap((p) => p.members.ids.map((memberId) => ({ groupId: p.row.id, memberId, display: p.members.displays?.get(memberId) }))));
    const outcomes: Outcome[] = [];
    const changes: { change: Change; txn: TxnRef }[] = [];
    for (const p of prepared) {
      // A new user is in no group yet; a new group's members are exactly the ones just inserted.
      const related: MemberRef[] = p.members.ids.map((id) => memberRef(id, found.get(id)!, p.members.displays?.get(id), ctx.compat.memberDisplay));
      const after = toScimResource(ctx.baseUrl, p.row, related);
      const change: Change = { kind: 'create', type: p.it.type, id: p.row.id, before: undefined, after, attributes: noticeAttributes(undefined, p.doc, p.members.ids.length > 0) };
      changes.push({ change, txn: p.it.txn });
      outcomes.push({ status: 201, type: p.it.type, id: p.row.id, location: resourceLocation(ctx.baseUrl, p.it.type, p.row.id), version: after.meta.version as string, resource: after, change });
    }
    if (ctx.onChanges) await ctx.onChanges(s, changes);
    else for (const c of changes) await ctx.onChange?.(s, c.change, c.txn);
    return outcomes;
  });
}
