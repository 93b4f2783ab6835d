import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import { conflict } from '../core/errors.js';
import { isUuid } from '../core/ids.js';
import type { Db } from './db.js';
import { runList, type ListQuery, type ListResult } from './list-query.js';
import { clientOf, columnsOf, resourceRowOf, type RawResourceRow } from './raw-query.js';
import { readResource, type ReadOptions, type ReadResult } from './resource-reads.js';
import { memberDisplaySql, SENT_DISPLAY, type MemberView } from './member-view.js';
import type { MemberRef, NewMembers, ResourceRow, ResourceTypeName } from './resource-row.js';
import { groupMembers, resources } from './schema.js';

const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; cause?: { code?: string } };
  return err?.code === UNIQUE_VIOLATION || err?.cause?.code === UNIQUE_VIOLATION;
}

/** Each user-visible uniqueness rule has one message (RFC 7644 §3.3: 409 uniqueness). */
export function uniquenessError(row: Pick<ResourceRow, 'userName'>) {
  return conflict('uniqueness', `userName '${row.userName}' is already in use`);
}

const GET = { name: 'scimcast_get_row', text: `select ${columnsOf('r')} from resources r where r.resource_type = $1 and r.id = $2::uuid` };
const GET_FOR_UPDATE = { name: 'scimcast_get_row_for_update', text: `${GET.text} for update` };

export function makeResourceRepo(db: Db, view: MemberView = SENT_DISPLAY) {
  return {
    async insert(row: ResourceRow): Promise<void> {
      try {
        await db.insert(resources).values(row);
      } catch (e) {
        if (isUniqueViolation(e)) throw uniquenessError(row);
        throw e;
      }
    },

    /** Many rows in multi-row statements (bulk creations); a uniqueness clash fails them all. */
    async insertMany(rows: ResourceRow[]): Promise<void> {
      if (rows.length === 0) return;
      // One JSON parameter per statement: drizzle's per-value checks dominated 10,000-row inserts.
      const json = JSON.stringify(
        rows.map((r) => ({ id: r.id, rt: r.resourceType, un: r.userName, ei: r.externalId, dn: r.displayName, a: r.active, d: r.doc, v: r.version, c: r.created.toISOString(), m: r.lastModified.toISOString() })),
      );
      try {
        await db.execute(sql`
          insert into ${resources} (id, resource_type, user_name, external_id, display_name, active, doc, version, created, last_modified)
          select id, rt, un, ei, dn, a, d, v, c, m from jsonb_to_recordset(${json}::jsonb)
            as x(id uuid, rt text, un text, ei text, dn text, a boolean, d jsonb, v int, c timestamptz, m timestamptz)`);
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict('uniqueness', 'a userName in this batch is already in use');
        throw e;
      }
    },

    async get(type: ResourceTypeName, id: string, opts: { forUpdate?: boolean } = {}): Promise<ResourceRow | undefined> {
      // A value that is not a uuid names no resource (and must not reach the uuid column).
      if (!isUuid(id)) return undefined;
      // A named prepared statement: every write reads its row first, and drizzle's builder and
      // PostgreSQL's parse and plan cost more than the lookup itself.
      const { rows } = await clientOf(db).query<RawResourceRow>({ ...(opts.forUpdate ? GET_FOR_UPDATE : GET), values: [type, id] });
      return rows[0] ? resourceRowOf(rows[0]) : undefined;
    },

    /** GET /{type}/{id}: the row with its User groups or Group members, in one statement (resource-reads.ts). */
    async read(type: ResourceTypeName, id: string, opts: ReadOptions): Promise<ReadResult | undefined> {
      return readResource(db, type, id, opts, view);
    },

    /** Write a new state; the caller computed version = old + 1. */
    async update(row: ResourceRow): Promise<void> {
      try {
        await db
          .update(resources)
          .set({
            userName: row.userName,
            externalId: row.externalId,
            displayName: row.displayName,
            active: row.active,
            doc: row.doc,
            version: row.version,
            lastModified: row.lastModified,
          })
          .where(eq(resources.id, row.id));
      } catch (e) {
        if (isUniqueViolation(e)) throw uniquenessError(row);
        throw e;
      }
    },

    /** Bump version and lastModified only (a member change does not rewrite the group document). */
    async touch(id: string, lastModified: Date): Promise<number> {
      const r = await db
        .update(resources)
        .set({ version: sql`${resources.version} + 1`, lastModified })
        .where(eq(resources.id, id))
        .returning({ version: resources.version });
      return r[0]!.version;
    },

    async delete(type: ResourceTypeName, id: string): Promise<boolean> {
      if (!isUuid(id)) return false;
      const r = await db
        .delete(resources)
        .where(and(eq(resources.resourceType, type), eq(resources.id, id)))
        .returning({ id: resources.id });
      return r.length > 0;
    },

    /** Filtered, sorted, paged list (RFC 7644 §3.4.2, RFC 9865); the filter runs in SQL (list-query.ts). */
    async list(q: ListQuery): Promise<ListResult> {
      return runList(db, q, view);
    },

    /** id → resourceType and display name (displayName, else userName), for member validation and MemberView. */
    async describe(ids: string[]): Promise<Map<string, { type: ResourceTypeName; display: string | null }>> {
      const valid = ids.filter(isUuid);
      const out = new Map<string, { type: ResourceTypeName; display: string | null }>();
      if (valid.length === 0) return out;
      const rows = await db
        .select({ id: resources.id, type: resources.resourceType, userName: resources.userName, displayName: resources.displayName })
        .from(resources)
        .where(sql`${resources.id} = any(${uuidArray(valid)})`);
      for (const r of rows) out.set(r.id, { type: r.type as ResourceTypeName, display: r.displayName ?? r.userName });
      return out;
    },
  };
}

/**
 * One bound parameter (a PostgreSQL array literal of ids that passed isUuid, so no quoting is
 * needed), however many ids. `inArray` binds one parameter per id, and the protocol caps a
 * statement at 65,535 parameters: a group of 70,000 members (well within the bulk payload limit)
 * broke the connection instead of being stored.
 */
function uuidArray(valid: readonly string[]): SQL {
  return sql`${`{${valid.join(',')}}`}::uuid[]`;
}

/**
 * An id that is already a member stays where it is (its `seq`). Only a `display` sent with it
 * replaces the stored one, and only when it differs: an add without one changes nothing, and
 * such a row is not returned, so it does not count as a change.
 */
export const onConflictKeepOrRedisplay = sql.raw(
  'on conflict (group_id, member_id) do update set display = excluded.display where excluded.display is not null and group_members.display is distinct from excluded.display',
);

/**
 * A PostgreSQL text[] literal (one bound parameter, however many values): each element quoted,
 * `\` and `"` escaped, null as NULL. Request text never holds U+0000 (http/plugins/request-text.ts).
 */
export function textArrayLiteral(values: readonly (string | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`)).join(',')}}`;
}

/** The `display` of each id, in order (NULL when none was sent), as a text[] literal. */
export function displaysLiteral(ids: readonly string[], displays: ReadonlyMap<string, string> | undefined): string {
  return textArrayLiteral(ids.map((id) => displays?.get(id) ?? null));
}

export function makeMemberRepo(db: Db, view: MemberView = SENT_DISPLAY) {
  const member = {
    value: groupMembers.memberId,
    type: resources.resourceType,
    display: sql<string | null>`${sql.raw(memberDisplaySql(view, '"group_members"', '"resources"'))}`,
  };
  return {
    async forGroups(groupIds: string[]): Promise<Map<string, MemberRef[]>> {
      const out = new Map<string, MemberRef[]>(groupIds.map((id) => [id, []]));
      if (groupIds.length === 0) return out;
      const rows = await db
        .select({ groupId: groupMembers.groupId, ...member })
        .from(groupMembers)
        .innerJoin(resources, eq(resources.id, groupMembers.memberId))
        .where(sql`${groupMembers.groupId} = any(${uuidArray(groupIds.filter(isUuid))})`)
        .orderBy(asc(groupMembers.seq));
      for (const r of rows) out.get(r.groupId)!.push({ value: r.value, type: r.type as ResourceTypeName, display: r.display });
      return out;
    },

    /**
     * How many members these groups have together, counted no further than `limit`: the
     * primary key index answers it without reading past the bound, however large the groups.
     */
    async countUpTo(groupIds: string[], limit: number): Promise<number> {
      const valid = groupIds.filter(isUuid);
      if (valid.length === 0) return 0;
      const r = await db.execute(
        sql`select count(*)::int as n from (select 1 from ${groupMembers} where ${groupMembers.groupId} = any(${uuidArray(valid)}) limit ${limit}) as x`,
      );
      return Number(r.rows[0]?.n ?? 0);
    },

    /** The User `groups` attribute (RFC 7643 §4.1.2, readOnly): direct memberships. */
    async groupsOf(memberIds: string[]): Promise<Map<string, MemberRef[]>> {
      const out = new Map<string, MemberRef[]>(memberIds.map((id) => [id, []]));
      if (memberIds.length === 0) return out;
      const rows = await db
        .select({ memberId: groupMembers.memberId, value: resources.id, displayName: resources.displayName })
        .from(groupMembers)
        .innerJoin(resources, eq(resources.id, groupMembers.groupId))
        .where(sql`${groupMembers.memberId} = any(${uuidArray(memberIds.filter(isUuid))})`)
        .orderBy(asc(groupMembers.seq));
      for (const r of rows) out.get(r.memberId)!.push({ value: r.value, type: 'Group', display: r.displayName });
      return out;
    },

    /**
     * Members are added in the order given (`seq`), which is the order `members` lists them, each
     * with the `display` the client sent. Returns how many were added, or already members whose
     * `display` the client sent anew (an add that changes what the member reads back as).
     */
    async add(groupId: string, members: NewMembers): Promise<number> {
      const valid = members.ids.filter(isUuid);
      if (valid.length === 0 || !isUuid(groupId)) return 0;
      const r = await db.execute(sql`
        insert into ${groupMembers} (group_id, member_id, display)
        select ${groupId}::uuid, x.m, x.d from unnest(${uuidArray(valid)}, ${displaysLiteral(valid, members.displays)}::text[]) with ordinality as x(m, d, n) order by x.n
        ${onConflictKeepOrRedisplay} returning member_id`);
      return r.rows.length;
    },

    async addMany(pairs: { groupId: string; memberId: string; display?: string | undefined }[]): Promise<void> {
      if (pairs.length === 0) return;
      const json = JSON.stringify(pairs.map((p) => ({ g: p.groupId, m: p.memberId, d: p.display ?? null })));
      await db.execute(sql`
        insert into ${groupMembers} (group_id, member_id, display)
        select g, m, d from jsonb_to_recordset(${json}::jsonb) as x(g uuid, m uuid, d text) on conflict do nothing`);
    },

    async remove(groupId: string, memberIds: string[]): Promise<number> {
      const valid = memberIds.filter(isUuid);
      if (valid.length === 0) return 0;
      const r = await db
        .delete(groupMembers)
        .where(and(eq(groupMembers.groupId, groupId), sql`${groupMembers.memberId} = any(${uuidArray(valid)})`))
        .returning({ m: groupMembers.memberId });
      return r.length;
    },

    /** Removes every member; returns those removed with their stored display (a PUT compares them with the new list). */
    async clear(groupId: string): Promise<{ value: string; display: string | null }[]> {
      return db.delete(groupMembers).where(eq(groupMembers.groupId, groupId)).returning({ value: groupMembers.memberId, display: groupMembers.display });
    },

    /** The ids among `memberIds` that are members of the group now. */
    async present(groupId: string, memberIds: string[]): Promise<Set<string>> {
      const valid = memberIds.filter(isUuid);
      if (valid.length === 0) return new Set();
      const r = await db
        .select({ m: groupMembers.memberId })
        .from(groupMembers)
        .where(and(eq(groupMembers.groupId, groupId), sql`${groupMembers.memberId} = any(${uuidArray(valid)})`));
      return new Set(r.map((x) => x.m));
    },
  };
}
