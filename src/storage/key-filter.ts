import type { AttrPath, FilterNode } from '../scim/filter/index.js';
import { RESOURCE_TYPES, type ResourceTypeName } from '../scim/schemas/registry.js';

/**
 * Filters that name resources by a unique key: `eq` on `id` or, for Users, on `userName`, and
 * `and` / `or` of such terms. Each term matches at most one row of the type (`id` is the
 * primary key; userName is unique among Users, case-insensitively, RFC 7643 §4.1), so the whole
 * filter matches at most as many rows as it has terms, which the filter limits bound. That is
 * what lets a page of them carry its total as a window count (flat-page.ts): counting reads
 * only rows the page reads anyway, or a few more.
 *
 * This is the lookup provisioning clients send before every write (`userName eq "…"`), so its
 * SQL is written here as plain text with `$n` parameters instead of through filter-sql.ts and
 * drizzle's builder, whose per-request cost exceeded the statement's own on this path. The text
 * depends only on the filter's shape, so each shape is one named prepared statement.
 */

export interface KeyFilter {
  /** The condition on the row aliased `r`, with `$1…$n` for `values`. */
  readonly condition: string;
  readonly values: (string | null)[];
}

/** The form of an id this server issues: lower-case, as PostgreSQL prints a uuid. */
const CANONICAL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Key = 'id' | 'userName';

/** `id`, `userName` or either with the type's own schema URN (names are case-insensitive, RFC 7644 §3.10). */
function keyOf(type: ResourceTypeName, path: AttrPath): Key | undefined {
  if (path.subAttr !== undefined) return undefined;
  if (path.schema !== undefined && path.schema.toLowerCase() !== RESOURCE_TYPES[type].schema.id.toLowerCase()) return undefined;
  const name = path.attr.toLowerCase();
  if (name === 'id') return 'id';
  if (name === 'username' && type === 'User') return 'userName';
  return undefined;
}

/**
 * One term, as filter-sql.ts would compare it. userName is caseExact false: lower() of both
 * sides, the expression of the unique index. id is caseExact true: only the exact text of an
 * issued id matches, so any other value becomes NULL, which equals no row (and never reaches
 * the uuid cast as text PostgreSQL would refuse).
 */
function termOf(key: Key, value: string, values: (string | null)[]): string {
  if (key === 'userName') {
    values.push(value);
    return `lower(r.user_name) = lower($${values.length}::text)`;
  }
  values.push(CANONICAL_ID.test(value) ? value : null);
  return `r.id = $${values.length}::uuid`;
}

/**
 * Without `not` the conditions need no two-valued rewrite (filter-sql.ts makes every term true
 * or false so that `not` reads as a client expects): NULL and false select the same rows under
 * `and` and `or`.
 */
function conditionOf(type: ResourceTypeName, node: FilterNode, values: (string | null)[]): string | undefined {
  if (node.kind === 'compare') {
    const key = node.op === 'eq' && typeof node.value === 'string' ? keyOf(type, node.path) : undefined;
    return key && termOf(key, node.value as string, values);
  }
  if (node.kind !== 'and' && node.kind !== 'or') return undefined;
  const parts: string[] = [];
  for (const child of node.children) {
    const part = conditionOf(type, child, values);
    if (part === undefined) return undefined;
    parts.push(part);
  }
  return `(${parts.join(node.kind === 'and' ? ' and ' : ' or ')})`;
}

/** The filter as a key lookup on one resource type, or undefined when it is anything else. */
export function keyFilterOf(type: ResourceTypeName, filter: FilterNode): KeyFilter | undefined {
  const values: (string | null)[] = [];
  const condition = conditionOf(type, filter, values);
  return condition === undefined ? undefined : { condition, values };
}
