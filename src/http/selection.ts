import { projectAttributes, returnsAttribute } from '../scim/resource-output.js';
import type { ResourceTypeName } from '../scim/resource-types.js';

/** `attributes` / `excludedAttributes` (RFC 7644 §3.9): comma-separated attribute paths. */
export interface Selection {
  readonly attributes?: readonly string[] | undefined;
  readonly excludedAttributes?: readonly string[] | undefined;
}

const list = (v: unknown): string[] | undefined => {
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  return v.split(',').map((a) => a.trim()).filter((a) => a !== '');
};

export function selectionOf(query: { attributes?: unknown; excludedAttributes?: unknown }): Selection {
  return { attributes: list(query.attributes), excludedAttributes: list(query.excludedAttributes) };
}

export const hasSelection = (sel: Selection) => sel.attributes !== undefined || sel.excludedAttributes !== undefined;

/** Whether a Group's members must be read at all: not when the response leaves them out (a large group is costly). */
export function wantsMembers(sel: Selection): boolean {
  return returnsAttribute('Group', 'members', sel);
}

/** Whether a User's groups must be read: not when the response leaves them out (RFC 7644 §3.4.2.5). */
export function wantsGroups(sel: Selection): boolean {
  return returnsAttribute('User', 'groups', sel);
}

/** Always applied: with no selection it still keeps `returned: request` attributes out (RFC 7643 §2.2). */
export function project<T extends Record<string, unknown>>(type: ResourceTypeName, resource: T, sel: Selection): T {
  return projectAttributes(type, resource, sel) as T;
}
