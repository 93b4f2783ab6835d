import { sql, type SQL } from 'drizzle-orm';
import { formatAttrPath, type AttrPath } from '../scim/filter/index.js';
import type { AttributeDef } from '../scim/schemas/attribute.js';
import { findAttribute, RESOURCE_TYPES, type ResolvedAttribute, type ResourceTypeName } from '../scim/schemas/registry.js';
import { memberDisplaySql, SENT_DISPLAY, type MemberView } from './member-view.js';
import { resources } from './schema.js';
import { valuesIndexOf, type ValuesIndex } from './substring-index.js';

/**
 * Where a SCIM attribute lives in the database, for the filter and sort compilers
 * (filter-sql.ts, sort-sql.ts). The indexed attributes are columns (id, userName, externalId,
 * displayName, active, meta.*), Group members and User groups are rows of group_members, and
 * everything else is in `doc` under its canonical name (extensions under their URN key).
 *
 * Names are resolved case-insensitively through the schema registry (RFC 7643 §2.1), so the
 * SQL only ever names canonical attributes; every client value stays a bound parameter.
 */

/** The comparison family of an attribute (RFC 7643 §2.3 data types; reference compares as string). */
export type ValueKind = 'string' | 'binary' | 'boolean' | 'number' | 'dateTime';

/** One value: a typed SQL expression (text, boolean, numeric or timestamptz) that is NULL when unassigned. */
export interface Scalar {
  readonly label: string;
  readonly kind: ValueKind;
  readonly caseExact: boolean;
  readonly expr: SQL;
}

/**
 * The values of a multi-valued (or the one value of a complex) attribute, each an "element"
 * that a condition can test: `emails[type eq "work" and value co "@x"]` holds when one element
 * satisfies the whole condition (RFC 7644 §3.4.2.2 valuePath).
 */
export interface Elements {
  readonly label: string;
  /** `exists (… where cond)`, cond written against `sub()` expressions. */
  exists(cond: SQL): SQL;
  /** RFC 7644 §3.4.2.3: the primary element's value, else the first element's. */
  first(expr: SQL): SQL;
  /** A sub-attribute of the current element; throws AttrProblem when there is none. */
  sub(name: string): Scalar;
  /** The `value` sub-attribute, if the attribute has one (what `emails eq "x"` compares). */
  readonly hasValue: boolean;
  /** A trigram index over one sub-attribute's values of all elements (substring-index.ts), if any. */
  readonly valuesIndex?: ValuesIndex | undefined;
}

export type Target =
  | { readonly shape: 'scalar'; readonly scalar: Scalar }
  /** `emails.value`: any element's sub-attribute (`sub`, its canonical name). */
  | { readonly shape: 'each'; readonly elements: Elements; readonly sub: string; readonly scalar: Scalar }
  /** `emails`, `name`, `meta`: a complex or multi-valued attribute named as a whole. */
  | { readonly shape: 'object'; readonly label: string; readonly present: SQL; readonly elements: Elements | undefined }
  /** Not an attribute of this resource type (only reachable in a root search across types). */
  | { readonly shape: 'absent'; readonly label: string };

/**
 * The attribute exists but cannot be used this way. The filter compiler turns it into
 * invalidFilter, the sort compiler into invalidValue, each with this detail.
 */
export class AttrProblem extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'AttrProblem';
  }
}

const lowerEq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function kindOf(def: AttributeDef): ValueKind {
  switch (def.type) {
    case 'boolean':
      return 'boolean';
    case 'integer':
    case 'decimal':
      return 'number';
    case 'dateTime':
      return 'dateTime';
    case 'binary':
      return 'binary';
    default:
      return 'string';
  }
}

const scalarOf = (label: string, def: AttributeDef, expr: SQL): Scalar => ({ label, kind: kindOf(def), caseExact: def.caseExact, expr });

/** `->>` gives text; other kinds are cast back to their SQL type so comparisons are typed. */
function typedText(text: SQL, kind: ValueKind): SQL {
  switch (kind) {
    case 'boolean':
      return sql`(${text})::boolean`;
    case 'number':
      return sql`(${text})::numeric`;
    case 'dateTime':
      return sql`(${text})::timestamptz`;
    default:
      return text;
  }
}

const jsonScalar = (label: string, def: AttributeDef, text: SQL) => scalarOf(label, def, typedText(text, kindOf(def)));

/** Input validation stores arrays for multi-valued attributes; anything else counts as no values. */
const asArray = (json: SQL) => sql`(case when jsonb_typeof(${json}) = 'array' then ${json} end)`;
/** A singular complex value is a one-element list, so value paths work on it too. */
const asSingleton = (json: SQL) => sql`(case when jsonb_typeof(${json}) = 'object' then jsonb_build_array(${json}) end)`;

function subDef(parent: AttributeDef, name: string, label: string): AttributeDef {
  const def = parent.subAttributes?.find((s) => lowerEq(s.name, name));
  if (!def) throw new AttrProblem(`'${label}' has no sub-attribute '${name}'`);
  return def;
}

/** Elements of a JSON array, one row `e(v, n)` each. */
function jsonElements(label: string, parent: AttributeDef, array: SQL, valuesIndex?: ValuesIndex): Elements {
  return {
    label,
    hasValue: parent.subAttributes?.some((s) => s.name === 'value') ?? false,
    valuesIndex,
    exists: (cond) => sql`exists (select 1 from jsonb_array_elements(${array}) as e(v) where ${cond})`,
    first: (expr) =>
      sql`(select ${expr} from jsonb_array_elements(${array}) with ordinality as e(v, n) order by coalesce(e.v -> 'primary' = 'true'::jsonb, false) desc, e.n limit 1)`,
    sub(name) {
      const def = subDef(parent, name, label);
      return jsonScalar(`${label}.${def.name}`, def, sql`(e.v ->> ${def.name}::text)`);
    },
  };
}

/**
 * Group `members` (RFC 7643 §4.2): rows of group_members joined to the member (alias `mr`) for
 * type, and display as MemberView says (what the member reads back with). `$ref` is built from
 * the base URL at output time, so it is not stored.
 */
function memberElements(label: string, parent: AttributeDef, view: MemberView): Elements {
  const from = sql`group_members gm join resources mr on mr.id = gm.member_id where gm.group_id = ${resources.id}`;
  const subs: Record<string, SQL> = {
    value: sql`gm.member_id::text`,
    display: sql.raw(`(${memberDisplaySql(view, 'gm', 'mr')})`),
    type: sql`mr.resource_type`,
  };
  return relationElements(label, parent, from, subs);
}

/** User `groups` (RFC 7643 §4.1.2): the groups whose group_members rows name this user; all direct. */
function groupElements(label: string, parent: AttributeDef): Elements {
  const from = sql`group_members gm join resources gr on gr.id = gm.group_id where gm.member_id = ${resources.id}`;
  const subs: Record<string, SQL> = { value: sql`gm.group_id::text`, display: sql`gr.display_name`, type: sql`'direct'::text` };
  return relationElements(label, parent, from, subs);
}

function relationElements(label: string, parent: AttributeDef, from: SQL, subs: Record<string, SQL>): Elements {
  return {
    label,
    hasValue: true,
    exists: (cond) => sql`exists (select 1 from ${from} and ${cond})`,
    first: (expr) => sql`(select ${expr} from ${from} order by gm.seq limit 1)`,
    sub(name) {
      const def = subDef(parent, name, label);
      const expr = subs[def.name];
      if (!expr) throw new AttrProblem(`'${label}.${def.name}' is derived from the base URL and cannot be queried; use ${label}.value`);
      return scalarOf(`${label}.${def.name}`, def, expr);
    },
  };
}

/** Multi-valued or complex attribute: the whole (`emails`), or one sub-attribute of any element. */
function elementsTarget(elements: Elements, present: SQL, sub: AttributeDef | undefined): Target {
  if (sub) return { shape: 'each', elements, sub: sub.name, scalar: elements.sub(sub.name) };
  return { shape: 'object', label: elements.label, present, elements };
}

const hasMembers = sql`exists (select 1 from group_members gm where gm.group_id = ${resources.id})`;
const hasGroups = sql`exists (select 1 from group_members gm where gm.member_id = ${resources.id})`;

/** meta (RFC 7643 §3.1) comes from columns; location depends on the base URL and is not stored. */
function metaTarget(meta: AttributeDef, sub: AttributeDef | undefined): Target {
  if (!sub) return { shape: 'object', label: 'meta', present: sql`true`, elements: undefined };
  const label = `meta.${sub.name}`;
  switch (sub.name) {
    case 'created':
      return { shape: 'scalar', scalar: scalarOf(label, sub, sql`${resources.created}`) };
    case 'lastModified':
      return { shape: 'scalar', scalar: scalarOf(label, sub, sql`${resources.lastModified}`) };
    case 'resourceType':
      return { shape: 'scalar', scalar: scalarOf(label, sub, sql`${resources.resourceType}`) };
    case 'version':
      // The ETag form of the row version, as provisioning/etag.ts prints it (W/"n").
      return { shape: 'scalar', scalar: scalarOf(label, sub, sql`('W/"' || ${resources.version} || '"')`) };
    default:
      throw new AttrProblem(`'${label}' is derived from the base URL and cannot be queried; use id`);
  }
}

/** The core attributes kept in columns or tables rather than in `doc`; undefined for the rest. */
function columnTarget(type: ResourceTypeName, def: AttributeDef, sub: AttributeDef | undefined, view: MemberView): Target | undefined {
  const column = (expr: SQL): Target => ({ shape: 'scalar', scalar: scalarOf(def.name, def, expr) });
  switch (def.name) {
    case 'id':
      return column(sql`${resources.id}::text`);
    case 'userName':
      return column(sql`${resources.userName}`);
    case 'externalId':
      return column(sql`${resources.externalId}`);
    case 'displayName':
      return column(sql`${resources.displayName}`);
    case 'active':
      return column(sql`${resources.active}`);
    case 'meta':
      return metaTarget(def, sub);
    case 'members':
      return type === 'Group' ? elementsTarget(memberElements('members', def, view), hasMembers, sub) : undefined;
    case 'groups':
      return type === 'User' ? elementsTarget(groupElements('groups', def), hasGroups, sub) : undefined;
    default:
      return undefined;
  }
}

/** Everything else: `doc -> name` (or `doc -> urn -> name` for an extension attribute). */
function docTarget(type: ResourceTypeName, r: ResolvedAttribute, sub: AttributeDef | undefined, label: string): Target {
  const container = r.extension ? sql`(${resources.doc} -> ${r.schema}::text)` : sql`${resources.doc}`;
  const json = sql`(${container} -> ${r.def.name}::text)`;
  if (r.def.multiValued) {
    const elements = jsonElements(label, r.def, asArray(json), valuesIndexOf(type, r.def.name, r.extension));
    return elementsTarget(elements, sql`coalesce(jsonb_typeof(${json}) = 'array' and ${json} <> '[]'::jsonb, false)`, sub);
  }
  if (r.def.type === 'complex') {
    if (sub) return { shape: 'scalar', scalar: jsonScalar(`${label}.${sub.name}`, sub, sql`(${json} ->> ${sub.name}::text)`) };
    return elementsTarget(jsonElements(label, r.def, asSingleton(json)), sql`coalesce(jsonb_typeof(${json}) = 'object' and ${json} <> '{}'::jsonb, false)`, undefined);
  }
  return { shape: 'scalar', scalar: jsonScalar(label, r.def, sql`(${container} ->> ${r.def.name}::text)`) };
}

function schemaKnown(type: ResourceTypeName, schema: string | undefined): boolean {
  if (schema === undefined) return true;
  const rt = RESOURCE_TYPES[type];
  return [rt.schema, ...rt.extensions].some((s) => lowerEq(s.id, schema));
}

/**
 * Resolve a filter or sort path for one resource type. An attribute the type does not define
 * is `absent` (the caller decides whether that is an error); a known attribute with an unknown
 * sub-attribute, or one that cannot be queried, throws AttrProblem.
 */
export function resolveAttr(type: ResourceTypeName, path: AttrPath, view: MemberView = SENT_DISPLAY): Target {
  const label = formatAttrPath(path);
  const top = schemaKnown(type, path.schema) ? findAttribute(type, formatAttrPath({ schema: path.schema, attr: path.attr })) : undefined;
  if (!top) return { shape: 'absent', label };
  const name = top.extension ? `${top.schema}:${top.def.name}` : top.def.name;
  if (top.def.returned === 'never') {
    throw new AttrProblem(`'${name}' is never returned (RFC 7643 §2.2 returned "never"), so it cannot be queried`);
  }
  if (path.subAttr !== undefined && !top.def.subAttributes) throw new AttrProblem(`'${name}' has no sub-attributes (in '${label}')`);
  const sub = path.subAttr === undefined ? undefined : subDef(top.def, path.subAttr, name);
  return (!top.extension && columnTarget(type, top.def, sub, view)) || docTarget(type, top, sub, name);
}
