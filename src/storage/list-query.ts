import { and, count as countFn, getTableColumns, sql, type SQL } from 'drizzle-orm';
import { badRequest } from '../core/errors.js';
import { stringifyFilter, type FilterNode } from '../scim/filter/index.js';
import type { ResourceTypeName } from '../scim/schemas/registry.js';
import { decodeCursor, encodeCursor, type CursorScope, type CursorState } from './cursor.js';
import type { Db } from './db.js';
import { compileFilter } from './filter-sql.js';
import { isStatementTimeout } from './pg-errors.js';
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
}

export interface ListResult {
  /** Every resource the filter matches, across all pages. */
  total: number;
  rows: Row[];
  nextCursor?: string;
  previousCursor?: string;
}

interface Plan {
  readonly where: SQL;
  readonly key: SortKey;
  readonly dir: Direction;
  readonly scope: CursorScope;
}

interface Keyed {
  readonly row: Row;
  readonly key: string | null;
}

const columns = getTableColumns(resources);

async function fetchRows(db: Db, where: SQL, plan: Plan, dir: Direction, limit: number, offset = 0): Promise<Keyed[]> {
  const rows = await db
    .select({ ...columns, sortKey: sql<string | null>`${plan.key.text}` })
    .from(resources)
    .where(where)
    .orderBy(...orderBy(plan.key, dir))
    .limit(limit)
    .offset(offset);
  return rows.map(({ sortKey, ...row }) => ({ row, key: sortKey }));
}

async function countRows(db: Db, where: SQL): Promise<number> {
  const [row] = await db.select({ n: countFn() }).from(resources).where(where);
  return Number(row?.n ?? 0);
}

const positionOf = (k: Keyed) => ({ key: k.key, id: k.row.id });

/** Whether any row lies beyond `k` in `dir` order: decides if a cursor leads anywhere. */
async function anyBeyond(db: Db, plan: Plan, dir: Direction, k: Keyed): Promise<boolean> {
  const rows = await db
    .select({ one: sql<number>`1` })
    .from(resources)
    .where(and(plan.where, keysetAfter(plan.key, dir, positionOf(k))))
    .limit(1);
  return rows.length > 0;
}

async function indexPage(db: Db, plan: Plan, page: IndexPage, total: number): Promise<Row[]> {
  if (page.count === 0 || total < page.startIndex) return [];
  return (await fetchRows(db, plan.where, plan, plan.dir, page.count, page.startIndex - 1)).map((k) => k.row);
}

/**
 * Keyset page: rows after the cursor position (or, for a previousCursor, before it: scanned in
 * reverse order, then flipped back). One extra row tells whether a further page exists;
 * count=0 answers totalResults only, with no cursors.
 */
async function cursorPage(db: Db, plan: Plan, at: CursorState | undefined, count: number): Promise<Omit<ListResult, 'total'>> {
  if (count === 0) return { rows: [] };
  const backwards = at?.direction === 'prev';
  const scan = backwards ? reverse(plan.dir) : plan.dir;
  const where = at ? and(plan.where, keysetAfter(plan.key, scan, at))! : plan.where;
  const fetched = await fetchRows(db, where, plan, scan, count + 1);
  const page = fetched.slice(0, count);
  if (backwards) page.reverse();
  const first = page[0];
  const last = page[page.length - 1];
  if (!first || !last) return { rows: [] };
  const more = fetched.length > count;
  const hasNext = backwards ? await anyBeyond(db, plan, plan.dir, last) : more;
  const hasPrevious = backwards ? more : at !== undefined && (await anyBeyond(db, plan, reverse(plan.dir), first));
  const out: Omit<ListResult, 'total'> = { rows: page.map((k) => k.row) };
  if (hasNext) out.nextCursor = encodeCursor({ direction: 'next', ...positionOf(last) }, plan.scope);
  if (hasPrevious) out.previousCursor = encodeCursor({ direction: 'prev', ...positionOf(first) }, plan.scope);
  return out;
}

/**
 * A list query cut off by statement_timeout is the client's to narrow, not a failure to retry
 * as is: RFC 7644 §3.4.2.4 / §3.12 `tooMany`, "more results than the server is willing to
 * calculate or process". Retrying the same filter would only cost the same time again.
 */
export async function runList(db: Db, q: ListQuery): Promise<ListResult> {
  try {
    return await runListQuery(db, q);
  } catch (e) {
    if (!isStatementTimeout(e)) throw e;
    throw badRequest(
      'tooMany',
      'The query took longer than this server allows and was cancelled: narrow the filter (for example eq on userName, externalId or id), or page with a cursor instead of a large startIndex',
      e,
    );
  }
}

async function runListQuery(db: Db, q: ListQuery): Promise<ListResult> {
  const key = compileSortKey(q.types, q.sortBy);
  const dir: Direction = q.descending ? 'desc' : 'asc';
  const scope: CursorScope = { types: q.types, filter: q.filter ? stringifyFilter(q.filter) : '', sortBy: key.label, descending: dir === 'desc' };
  const plan: Plan = { where: compileFilter(q.types, q.filter), key, dir, scope };
  // Decode before any query: a bad cursor is the client's error, whatever the data.
  const at = q.page.method === 'cursor' && q.page.cursor !== '' ? decodeCursor(q.page.cursor, scope, key.kind) : undefined;
  const total = await countRows(db, plan.where);
  if (q.page.method === 'index') return { total, rows: await indexPage(db, plan, q.page, total) };
  return { total, ...(await cursorPage(db, plan, at, q.page.count)) };
}
