import { badRequest } from '../core/errors.js';
import type { MemberRef, NewMembers, Storage } from '../storage/index.js';

/**
 * Group `members` input: values must name existing Users or Groups (RFC 7643 §4.2). Each id once,
 * at its first occurrence, with the `display` sent there, if any: it is stored and read back as
 * sent. `$ref` and `type` are not kept: the server derives both from the member itself.
 */
export function membersOf(members: unknown): NewMembers {
  if (members === undefined || members === null) return { ids: [] };
  if (!Array.isArray(members)) throw badRequest('invalidValue', 'members must be an array');
  // A set keeps the first occurrence of each id in order; `includes` per member was quadratic
  // for the 100,000s of members a bulk payload can carry.
  const ids = new Set<string>();
  let displays: Map<string, string> | undefined;
  for (const [i, m] of members.entries()) {
    const { value, display } = (m ?? {}) as { value?: unknown; display?: unknown };
    if (typeof value !== 'string' || value === '') throw badRequest('invalidValue', `members[${i}].value must be a non-empty string`);
    if (ids.has(value)) continue;
    ids.add(value);
    if (typeof display === 'string') (displays ??= new Map()).set(value, display);
  }
  return { ids: [...ids], displays };
}

/** RFC 7644 §3.12 invalidValue naming the first few ids that name no resource. */
export function missingMembers(missing: readonly string[]): Error {
  return badRequest('invalidValue', `members refer to resources that do not exist: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
}

/**
 * A member as a group's `members` lists it: the `display` the client sent, else (only with
 * SCIMCAST_COMPAT_MEMBER_DISPLAY) the member's displayName or userName, else none.
 */
export function memberRef(value: string, found: { type: MemberRef['type']; display: string | null }, sent: string | undefined, fromName: boolean): MemberRef {
  return { value, type: found.type, display: sent ?? (fromName ? found.display : null) };
}

/**
 * Checks that every id names an existing resource other than the group itself, and returns the
 * members as a group's `members` lists them, in the order given: a write that sets the member
 * list answers with it without reading the group's member rows back (a round trip per write saved).
 */
export async function checkMembersExist(storage: Storage, groupId: string, members: NewMembers, fromName: boolean): Promise<MemberRef[]> {
  const { ids, displays } = members;
  if (ids.length === 0) return [];
  const found = await storage.resources.describe([...ids]);
  const missing = ids.filter((id) => !found.has(id) && id !== groupId);
  if (missing.length > 0) throw missingMembers(missing);
  if (ids.includes(groupId)) throw badRequest('invalidValue', 'a group cannot be a member of itself');
  return ids.map((value) => memberRef(value, found.get(value)!, displays?.get(value), fromName));
}
