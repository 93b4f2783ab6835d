import { sql, type SQL } from 'drizzle-orm';
import { badRequest } from '../core/errors.js';
import { KNOWN_SCHEMA_URNS, type AttrPath } from '../scim/filter/index.js';
import type { ResourceTypeName } from '../scim/schemas/registry.js';
import { AttrProblem, resolveAttr, type Scalar, type Target, type ValueKind } from './attr-sql.js';
import type { MemberView } from './member-view.js';
import { resources } from './schema.js';

/**
 * `sortBy` / `sortOrder` (RFC 7644 §3.4.2.3) as one SQL sort key plus `id` as tie-breaker, so
 * the order is total and a keyset cursor (cursor.ts) can resume exactly after any row.
 *
 * Unassigned values are treated as greater than every value: ascending puts them last, as
 * §3.4.2.3 asks, and descending is the exact reverse (they come first). Strings sort in the
 * "C" collation (code-point order, "no specific locale implied"), lower-cased first when the
 * attribute is not caseExact.
 *
 * An unknown or unsortable sortBy is 400 invalidValue: §3.12 reserves invalidFilter for the
 * `filter` expression, and invalidValue is "not compatible with the operation or attribute type".
 */

export type Direction = 'asc' | 'desc';

export interface SortKey {
  /** Canonical attribute path, e.g. `emails.value`; part of a cursor's fingerprint. */
  readonly label: string;
  readonly kind: ValueKind;
  /** The typed expression ORDER BY uses. */
  readonly expr: SQL;
  /** Its exact text form, selected with each row so a cursor can resume after it. */
  readonly text: SQL;
}

/** The row's position in the order: its key (text form) and id. */
export interface Position {
  readonly key: string | null;
  readonly id: string;
}

const invalidValue = (detail: string) => badRequest('invalidValue', `Invalid sortBy: ${detail}`);

/** `[urn:…:]attr[.sub]`: the schema prefix is one of the served URNs (they contain dots). */
function parseSortPath(text: string): AttrPath {
  const schema = KNOWN_SCHEMA_URNS.find((u) => text.toLowerCase().startsWith(`${u.toLowerCase()}:`));
  const rest = schema ? text.slice(schema.length + 1) : text;
  const [attr, subAttr, ...more] = rest.split('.');
  if (!attr || more.length > 0 || subAttr === '') throw invalidValue(`'${text}' is not an attribute path ("attribute" or "attribute.subAttribute")`);
  return { schema, attr, subAttr };
}

/** RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary value, else its first. */
function keyScalar(t: Exclude<Target, { shape: 'absent' }>): Scalar {
  switch (t.shape) {
    case 'scalar':
      return t.scalar;
    case 'each':
      return { ...t.scalar, expr: t.elements.first(t.scalar.expr) };
    case 'object': {
      if (!t.elements?.hasValue) throw new AttrProblem(`'${t.label}' is complex: sort by one of its sub-attributes (${t.label}.<name>)`);
      const value = t.elements.sub('value');
      return { ...value, label: t.label, expr: t.elements.first(value.expr) };
    }
  }
}

/** Sort order of binary values is not defined (RFC 7644 §3.4.2.3). */
function sortable(s: Scalar): Scalar {
  if (s.kind === 'binary') throw new AttrProblem(`'${s.label}' is binary and has no sort order (RFC 7644 §3.4.2.3)`);
  return s.kind === 'string' && !s.caseExact ? { ...s, expr: sql`lower(${s.expr})` } : s;
}

/** Per type, the key or undefined when the type lacks the attribute (root search: NULL for it). */
function keyFor(type: ResourceTypeName, path: AttrPath, view: MemberView | undefined): Scalar | undefined {
  const t = resolveAttr(type, path, view);
  return t.shape === 'absent' ? undefined : sortable(keyScalar(t));
}

/** Text form that casts back to the same value (dateTime in UTC with microseconds). */
function textOf(kind: ValueKind, expr: SQL): SQL {
  switch (kind) {
    case 'string':
    case 'binary':
      return expr;
    case 'dateTime':
      return sql`to_char((${expr}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
    default:
      return sql`(${expr})::text`;
  }
}

function combine(label: string, keys: ReadonlyArray<readonly [ResourceTypeName, Scalar | undefined]>): SortKey {
  const present = keys.filter((k): k is readonly [ResourceTypeName, Scalar] => k[1] !== undefined);
  const kinds = new Set(present.map(([, s]) => s.kind));
  if (kinds.size > 1) throw invalidValue(`'${label}' has different types in the resource types searched`);
  const kind = present[0]![1].kind;
  const single = keys.length === 1 ? present[0]![1].expr : undefined;
  const expr = single ?? sql`(case ${sql.join(present.map(([type, s]) => sql`when ${resources.resourceType} = ${type} then ${s.expr}`), sql` `)} end)`;
  const collated = kind === 'string' ? sql`(${expr}) collate "C"` : expr;
  return { label: present[0]![1].label, kind, expr: collated, text: textOf(kind, collated) };
}

/** The default order when no sortBy is given: creation time, oldest first. */
export const CREATED_KEY: SortKey = {
  label: 'meta.created',
  kind: 'dateTime',
  expr: sql`${resources.created}`,
  text: textOf('dateTime', sql`${resources.created}`),
};

export function compileSortKey(types: readonly ResourceTypeName[], sortBy: string | undefined, view?: MemberView): SortKey {
  if (sortBy === undefined) return CREATED_KEY;
  const path = parseSortPath(sortBy);
  try {
    const keys = types.map((type) => [type, keyFor(type, path, view)] as const);
    if (keys.every(([, k]) => k === undefined)) throw invalidValue(`unknown attribute '${sortBy}' for ${types.join(' or ')}`);
    return combine(sortBy, keys);
  } catch (e) {
    if (e instanceof AttrProblem) throw invalidValue(e.detail);
    throw e;
  }
}

export function orderBy(key: SortKey, dir: Direction): SQL[] {
  return dir === 'asc' ? [sql`${key.expr} asc nulls last`, sql`${resources.id} asc`] : [sql`${key.expr} desc nulls first`, sql`${resources.id} desc`];
}

export const reverse = (dir: Direction): Direction => (dir === 'asc' ? 'desc' : 'asc');

/** A cursor's key text as a typed parameter (cursor.ts has checked it parses as `kind`). */
function keyParam(key: SortKey, text: string): SQL {
  switch (key.kind) {
    case 'boolean':
      return sql`${text}::boolean`;
    case 'number':
      return sql`${text}::numeric`;
    case 'dateTime':
      return sql`${text}::timestamptz`;
    default:
      return sql`${text}::text`;
  }
}

/**
 * Rows strictly after `at` in `dir` order, NULL counting as greater than any value:
 * asc: key > k or (key = k and id > i); desc: key < k or (key = k and id < i).
 */
export function keysetAfter(key: SortKey, dir: Direction, at: Position): SQL {
  const k = at.key === null ? undefined : keyParam(key, at.key);
  const same = k ? sql`${key.expr} = ${k}` : sql`${key.expr} is null`;
  const idPast = dir === 'asc' ? sql`${resources.id} > ${at.id}::uuid` : sql`${resources.id} < ${at.id}::uuid`;
  const keyPast =
    dir === 'asc'
      ? k
        ? sql`(${key.expr} is null or ${key.expr} > ${k})`
        : sql`false`
      : k
        ? sql`${key.expr} < ${k}`
        : sql`${key.expr} is not null`;
  return sql`(${keyPast} or (${same} and ${idPast}))`;
}
