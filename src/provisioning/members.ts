import { badRequest } from '../core/errors.js';
import type { MemberRef, Storage } from '../storage/index.js';

/** Group `members` input: values must name existing Users or Groups (RFC 7643 §4.2). */
export function memberIdsOf(members: unknown): string[] {
  if (members === undefined || members === null) return [];
  if (!Array.isArray(members)) throw badRequest('invalidValue', 'members must be an array');
  // A set keeps the first occurrence of each id in order; `includes` per member was quadratic
  // for the 100,000s of members a bulk payload can carry.
  const ids = new Set<string>();
  for (const [i, m] of members.entries()) {
    const value = (m as { value?: unknown } | null)?.value;
    if (typeof value !== 'string' || value === '') throw badRequest('invalidValue', `members[${i}].value must be a non-empty string`);
    ids.add(value);
  }
  return [...ids];
}

/** RFC 7644 §3.12 invalidValue naming the first few ids that name no resource. */
export function missingMembers(missing: readonly string[]): Error {
  return badRequest('invalidValue', `members refer to resources that do not exist: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
}

/**
 * Checks that every id names an existing resource other than the group itself, and returns the
 * members as a group's `members` lists them, in the order given: a write that sets the member
 * list answers with it without reading the group's member rows back (issue 3 §3).
 */
export async function checkMembersExist(storage: Storage, groupId: string, ids: string[]): Promise<MemberRef[]> {
  if (ids.length === 0) return [];
  const found = await storage.resources.describe(ids);
  const missing = ids.filter((id) => !found.has(id) && id !== groupId);
  if (missing.length > 0) throw missingMembers(missing);
  if (ids.includes(groupId)) throw badRequest('invalidValue', 'a group cannot be a member of itself');
  return ids.map((value) => ({ value, ...found.get(value)! }));
}
