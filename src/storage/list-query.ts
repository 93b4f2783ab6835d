import { and, sql, type SQL } from 'drizzle-orm';
import { badRequest } from '../core/errors.js';
import { stringifyFilter, type FilterNode } from '../scim/filter/index.js';
import type { ResourceTypeName } from '../scim/schemas/registry.js';
import { decodeCursor, encodeCursor, type CursorScope, type CursorState } from './cursor.js';
import type { Db } from './db.js';
import { compileFilter } from './filter-sql.js';
import { flatIndexPage } from './flat-page.js';
import { keyFilterOf } from './key-filter.js';
import { isStatementTimeout } from './pg-errors.js';
import { clientOf, columnsOf, named, render, RESOURCE_COLUMNS, resourceRowOf, type RawResourceRow } from './raw-query.js';
import { groupRefsOf, groupsSubquery } from './resource-reads.js';
import type { MemberView } from './member-view.js';
import type { MemberRef } from './resource-row.js';
import { resources } from './schema.js';
import { compileSortKey, keysetAfter, orderBy, reverse, type Direction, type SortKey } from './sort-sql.js';

/**
 * One list/search query (RFC 7644 §3.4.2, §3.4.3): filter, sort and a page, either by index
 * (§3.4.2.4) or by cursor (RFC 9865). Filter and order are compiled to SQL; only the rows of
 * the requested page are read.
 */

type Row = typeof resources.$inferSelect;

/** RFC 7644 §3.4.2.4: 1-based startIndex; count already clamped to [0, maxResults]. */
export interface IndexPage {
  readonly method: 'index';
  readonly startIndex: number;
  readonly count: number;
}

/** RFC 9865 §2: `cursor` is '' on the first request, else a nextCursor/previousCursor value. */
export interface CursorPage {
  readonly method: 'cursor';
  readonly cursor: string;
  readonly count: number;
}

export interface ListQuery {
  /** One type for /Users or /Groups; both for a search at the server root (§3.4.2.1). */
  readonly types: readonly ResourceTypeName[];
  readonly filter?: FilterNode | undefined;
  readonly sortBy?: string | undefined;
  readonly descending?: boolean | undefined;
  readonly page: IndexPage | CursorPage;
  /** Read each User's `groups` (RFC 7643 §4.1.2) with the page, in the same statement. */
  readonly userGroups?: boolean | undefined;
}

export interface ListResult {
  /** Every resource the filter matches, across all pages. */
  total: number;
  rows: Row[];
  nextCursor?: string;
  previousCursor?: string;
  /** With `userGroups`: the groups of each User row of the page, by id. */
  groups?: Map<string, MemberRef[]>;
}

interface Plan {
  readonly where: SQL;
  readonly key: SortKey;
  readonly dir: Direction;
  readonly scope: CursorScope;
  /** Read each User row's `groups` in the same statement. */
  readonly groups: boolean;
  /** Send it as a named prepared statement (eqOnly). */
  readonly prepare: boolean;
}

/**
 * A filter of `eq` comparisons only (joined by and / or): the hot lookups (userName, id,
 * externalId eq …) whose statement text repeats with new values, and whose selectivity a generic
 * plan estimates as well as a custom one. Substring and range filters are planned per value.
 */
function eqOnly(f: FilterNode | undefined): boolean {
  if (!f) return false;
  if (f.kind === 'compare') return f.op === 'eq';
  if (f.kind === 'and' || f.kind === 'or') return f.children.every(eqOnly);
  return false;
}

interface Keyed {
  readonly row: Row;
  readonly key: string | null;
}

interface PageRead {
  readonly total: number;
  readonly keyed: Keyed[];
  readonly groups: Map<string, MemberRef[]> | undefined;
  /** The value of `probe`, when one was given. */
  readonly probe: boolean;
}

type Raw = RawResourceRow & { total: number; probe: boolean | null; sort_key: string | null; related: [string, string | null][] | null };

const PAGE_COLUMNS = sql.raw(RESOURCE_COLUMNS.map((c) => `"resources"."${c}"`).join(', '));
const OUTER_COLUMNS = sql.raw(columnsOf('p'));
const GROUPS = sql.raw(`case when p.resource_type = 'User' then ${groupsSubquery('p')} end`);

/**
 * One statement for a page: totalResults (RFC 7644 §3.4.2.4, every match across all pages), the
 * rows of the page with their sort keys, each User's `groups` when asked, and `probe` (an
 * exists() over the matches, for a cursor's other direction). The count is its own subquery,
 * not `count(*) over ()`: a window count would read every matching row (with its document)
 * before the first row of the page, where the subquery counts through an index and the page
 * still stops after `limit` rows. Left-joined, the total comes back even when the page is empty.
 */
async function readPage(db: Db, plan: Plan, where: SQL, dir: Direction, limit: number, offset: number, probe?: SQL): Promise<PageRead> {
  const order = sql.join(orderBy(plan.key, dir), sql`, `);
  const q = sql`select t.total, t.probe, ${OUTER_COLUMNS}, p.sort_key${plan.groups ? sql`, ${GROUPS} as related` : sql``}
    from (select (select count(*)::int from ${resources} where ${plan.where}) as total, ${probe ? sql`exists (select 1 from ${resources} where ${plan.where} and ${probe})` : sql`null::boolean`} as probe) t
    left join lateral (
      select ${PAGE_COLUMNS}, ${plan.key.text} as sort_key, row_number() over (order by ${order}) as ord
      from ${resources} where ${where} order by ${order} limit ${limit} offset ${offset}
    ) p on true
    order by p.ord`;
  const { rows } = await clientOf(db).query<Raw>(plan.prepare ? named(render(q)) : render(q));
  const first = rows[0]!;
  const page = rows.filter((r) => r.id !== null);
  const groups = plan.groups ? new Map(page.filter((r) => r.resource_type === 'User').map((r) => [r.id, groupRefsOf(r.related)])) : undefined;
  return { total: first.total, keyed: page.map((r) => ({ row: resourceRowOf(r), key: r.sort_key })), groups, probe: first.probe === true };
}

const positionOf = (k: Keyed) => ({ key: k.key, id: k.row.id });

/** An index page (RFC 7644 §3.4.2.4); count=0 or a startIndex past the end reads totalResults only. */
async function indexPage(db: Db, plan: Plan, page: IndexPage): Promise<ListResult> {
  const r = await readPage(db, plan, plan.where, plan.dir, page.count, page.startIndex - 1);
  return { total: r.total, rows: r.keyed.map((k) => k.row), ...(r.groups ? { groups: r.groups } : {}) };
}

/**
 * Keyset page: rows after the cursor position (or, for a previousCursor, before it: scanned in
 * reverse order, then flipped back). One extra row tells whether a further page exists in the
 * scan's direction; whether any lies the other way (before the first row of a next page, after
 * the last of a previous one) is whether any match lies at or beyond the cursor position in that
 * direction, asked in the same statement. count=0 answers totalResults only, with no cursors.
 */
async function cursorPage(db: Db, plan: Plan, at: CursorState | undefined, count: number): Promise<ListResult> {
  const backwards = at?.direction === 'prev';
  const scan = backwards ? reverse(plan.dir) : plan.dir;
  const where = at ? and(plan.where, keysetAfter(plan.key, scan, at))! : plan.where;
  const other = at ? sql`(${keysetAfter(plan.key, reverse(scan), at)} or ${resources.id} = ${at.id}::uuid)` : undefined;
  const r = await readPage(db, plan, where, scan, count === 0 ? 0 : count + 1, 0, count === 0 ? undefined : other);
  const out: ListResult = { total: r.total, rows: [], ...(r.groups ? { groups: r.groups } : {}) };
  const page = r.keyed.slice(0, count);
  if (backwards) page.reverse();
  const first = page[0];
  const last = page[page.length - 1];
  if (!first || !last) return out;
  const more = r.keyed.length > count;
  const hasNext = backwards ? r.probe : more;
  const hasPrevious = backwards ? more : r.probe;
  out.rows = page.map((k) => k.row);
  if (hasNext) out.nextCursor = encodeCursor({ direction: 'next', ...positionOf(last) }, plan.scope);
  if (hasPrevious) out.previousCursor = encodeCursor({ direction: 'prev', ...positionOf(first) }, plan.scope);
  return out;
}

/**
 * A list query cut off by statement_timeout is the client's to narrow, not a failure to retry
 * as is: RFC 7644 §3.4.2.4 / §3.12 `tooMany`, "more results than the server is willing to
 * calculate or process". Retrying the same filter would only cost the same time again.
 */
export async function runList(db: Db, q: ListQuery, view?: MemberView): Promise<ListResult> {
  try {
    return await runListQuery(db, q, view);
  } catch (e) {
    if (!isStatementTimeout(e)) throw e;
    throw badRequest(
      'tooMany',
      'The query took longer than this server allows and was cancelled: narrow the filter (for example eq on userName, externalId or id), or page with a cursor instead of a large startIndex',
      e,
    );
  }
}

/**
 * A key lookup (key-filter.ts: `userName eq`, `id eq`, and and/or of them) on one type, paged by
 * index in the default order, is the request provisioning clients send most: it takes the flat
 * statement of flat-page.ts. Cursor pages, other orders and every other filter take readPage.
 */
function flatRead(db: Db, q: ListQuery): Promise<ListResult> | undefined {
  if (q.page.method !== 'index' || q.sortBy !== undefined || q.types.length !== 1 || !q.filter) return undefined;
  const type = q.types[0]!;
  const filter = keyFilterOf(type, q.filter);
  if (!filter) return undefined;
  const { startIndex, count } = q.page;
  return flatIndexPage(db, { type, filter, dir: q.descending ? 'desc' : 'asc', groups: q.userGroups === true, startIndex, count });
}

async function runListQuery(db: Db, q: ListQuery, view: MemberView | undefined): Promise<ListResult> {
  const flat = flatRead(db, q);
  if (flat) return flat;
  const key = compileSortKey(q.types, q.sortBy, view);
  const dir: Direction = q.descending ? 'desc' : 'asc';
  const scope: CursorScope = { types: q.types, filter: q.filter ? stringifyFilter(q.filter) : '', sortBy: key.label, descending: dir === 'desc' };
  const plan: Plan = { where: compileFilter(q.types, q.filter, { memberView: view }), key, dir, scope, groups: q.userGroups === true && q.types.includes('User'), prepare: eqOnly(q.filter) };
  // Decode before any query: a bad cursor is the client's error, whatever the data.
  const at = q.page.method === 'cursor' && q.page.cursor !== '' ? decodeCursor(q.page.cursor, scope, key.kind) : undefined;
  if (q.page.method === 'index') return indexPage(db, plan, q.page);
  return cursorPage(db, plan, at, q.page.count);
}
