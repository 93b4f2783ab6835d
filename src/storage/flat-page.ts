import type { ResourceTypeName } from '../scim/schemas/registry.js';
import type { Db } from './db.js';
import type { KeyFilter } from './key-filter.js';
import { clientOf, columnsOf, named, resourceRowOf, type RawResourceRow } from './raw-query.js';
import { groupRefsOf, groupsSubquery } from './resource-reads.js';
import type { MemberRef, ResourceRow } from './resource-row.js';
import type { Direction } from './sort-sql.js';

/**
 * An index page (RFC 7644 §3.4.2.4) of a key lookup (key-filter.ts) in the default order, as one
 * flat statement: the page's rows, each User's `groups`, and totalResults as `count(*) over ()`.
 * The window count reads every match before the first row of the page, which list-query.ts
 * avoids for other filters; a key lookup has at most as many matches as terms, so here it costs
 * nothing, and the statement has no subquery join to plan.
 *
 * When the page comes back empty the total is unknown only if rows were skipped (a startIndex
 * past the end) or none were asked for (count=0): a second, count-only statement answers it
 * then. An empty first page is a miss, whose total is 0.
 */

export interface FlatPage {
  readonly total: number;
  readonly rows: ResourceRow[];
  /** With `groups`: each User row's groups, by id. */
  readonly groups?: Map<string, MemberRef[]>;
}

export interface FlatPageQuery {
  readonly type: ResourceTypeName;
  readonly filter: KeyFilter;
  /** The default order (meta.created, then id; sort-sql.ts CREATED_KEY) in this direction. */
  readonly dir: Direction;
  /** Read each User's `groups` (RFC 7643 §4.1.2) in the same statement. */
  readonly groups: boolean;
  readonly startIndex: number;
  readonly count: number;
}

type Raw = RawResourceRow & { total: number; related?: [string, string | null][] | null };

const matches = (q: FlatPageQuery) => `from resources r where r.resource_type = '${q.type}' and ${q.filter.condition}`;

/** The same order as sort-sql.ts orderBy(CREATED_KEY, dir), so both paths page alike. */
const orderOf = (alias: string, dir: Direction) =>
  dir === 'asc' ? `${alias}.created asc nulls last, ${alias}.id asc` : `${alias}.created desc nulls first, ${alias}.id desc`;

/**
 * The groups are read outside the limited page, on its rows only. Inside it, with `limit` a
 * parameter, PostgreSQL's generic plan costs the groups subquery as if it ran before the limit
 * and comes out dearer than a custom plan, so the statement would be planned again on every call
 * (measured: about 0.3 ms of PostgreSQL CPU per read). The outer order is the inner one, which the
 * planner sees and does not sort again.
 */
function pageStatement(q: FlatPageQuery, withGroups: boolean) {
  const n = q.filter.values.length;
  const related = withGroups ? `, ${groupsSubquery('p')} as related` : '';
  const page = `select (count(*) over ())::int as total, ${columnsOf('r')} ${matches(q)} order by ${orderOf('r', q.dir)} limit $${n + 1} offset $${n + 2}`;
  return named({
    text: `select p.total, ${columnsOf('p')}${related} from (${page}) p order by ${orderOf('p', q.dir)}`,
    values: [...q.filter.values, q.count, q.startIndex - 1],
  });
}

async function countOnly(db: Db, q: FlatPageQuery): Promise<number> {
  const { rows } = await clientOf(db).query<{ total: number }>(named({ text: `select count(*)::int as total ${matches(q)}`, values: q.filter.values }));
  return rows[0]!.total;
}

export async function flatIndexPage(db: Db, q: FlatPageQuery): Promise<FlatPage> {
  if (q.count === 0) return { total: await countOnly(db, q), rows: [] };
  const withGroups = q.groups && q.type === 'User';
  const { rows } = await clientOf(db).query<Raw>(pageStatement(q, withGroups));
  if (rows.length === 0) return { total: q.startIndex > 1 ? await countOnly(db, q) : 0, rows: [] };
  const out = rows.map(resourceRowOf);
  if (!withGroups) return { total: rows[0]!.total, rows: out };
  return { total: rows[0]!.total, rows: out, groups: new Map(rows.map((r) => [r.id, groupRefsOf(r.related ?? null)])) };
}
