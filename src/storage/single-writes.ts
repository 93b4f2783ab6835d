import { sql } from 'drizzle-orm';
import { isUuid } from '../core/ids.js';
import type { Db } from './db.js';
import { changeRecords, changesJson, insertChanges, type NewChange } from './changes.js';
import { displaysLiteral, isUniqueViolation, onConflictKeepOrRedisplay, uniquenessError } from './resources.js';
import type { ResourceRow } from './resource-row.js';
import { executeNamed } from './raw-query.js';
import { changes as changesTable, groupMembers, resources } from './schema.js';

/** What `addMembers` found: the group moved on since it was read, members that do not exist, or the result. */
export type AddMembersResult =
  | { readonly kind: 'moved' }
  | { readonly kind: 'missing'; readonly missing: readonly string[] }
  | { readonly kind: 'done'; readonly added: number; readonly version: number | undefined };

/**
 * Single-resource writes as one statement each: the change and its outbox rows travel in one
 * round trip; `inserted` announces the outbox rows once they commit (announce.ts). A statement is atomic on its own, so outside a transaction
 * (autocommit) there is no BEGIN/COMMIT to send, and a failure stores nothing, outbox row
 * included; inside one (the worker, bulk) it is one statement of that transaction.
 */
export function makeSingleWriteRepo(db: Db, inserted: () => void = () => {}) {
  return {
    /**
     * A new resource with its outbox rows. A clash on a unique index (the case-insensitive
     * userName of RFC 7643 §4.1) is the 409 `uniqueness` of RFC 7644 §3.3, and the statement,
     * outbox row included, is undone.
     */
    async create(row: ResourceRow, changes: readonly NewChange[]): Promise<void> {
      const insert = sql`insert into ${resources} (id, resource_type, user_name, external_id, display_name, active, doc, version, created, last_modified)
        values (${row.id}::uuid, ${row.resourceType}, ${row.userName}, ${row.externalId}, ${row.displayName}, ${row.active}::boolean, ${JSON.stringify(row.doc)}::jsonb,
                ${row.version}::int, ${row.created.toISOString()}::timestamptz, ${row.lastModified.toISOString()}::timestamptz)`;
      try {
        if (changes.length === 0) await executeNamed(db, insert);
        else await executeNamed(db, sql`with stored as (${insert}), outbox as (${insertChanges(changesJson(changes))}) select 1`);
      } catch (e) {
        if (isUniqueViolation(e)) throw uniquenessError(row);
        throw e;
      }
      if (changes.length > 0) inserted();
    },

    /**
     * Many new resources with their outbox rows, in one statement: the group commit of creates
     * that arrived together (index.ts). A row whose userName is taken, by a stored resource or by
     * an earlier row of the same statement, is skipped with its outbox rows (ON CONFLICT DO
     * NOTHING) and answered `false`: its 409 `uniqueness` is its own, and the others commit.
     */
    async createMany(items: readonly { row: ResourceRow; changes: readonly NewChange[] }[]): Promise<boolean[]> {
      const rows = items.map(({ row }, i) => ({
        i,
        id: row.id,
        resource_type: row.resourceType,
        user_name: row.userName,
        external_id: row.externalId,
        display_name: row.displayName,
        active: row.active,
        doc: row.doc,
        version: row.version,
        created: row.created.toISOString(),
        last_modified: row.lastModified.toISOString(),
      }));
      // The outbox rows keep the order of their resources; `rid` ties each to its resource.
      const outbox = items.flatMap(({ row, changes }) => changeRecords(changes).map((c) => ({ ...c, rid: row.id }))).map((c, i) => ({ ...c, i }));
      const r = await db.execute(sql`
        with stored as (
               insert into ${resources} (id, resource_type, user_name, external_id, display_name, active, doc, version, created, last_modified)
               select id, resource_type, user_name, external_id, display_name, active, doc, version, created, last_modified
               from json_to_recordset(${JSON.stringify(rows)}::json)
                 as x(i int, id uuid, resource_type text, user_name text, external_id text, display_name text, active boolean, doc jsonb, version int, created timestamptz, last_modified timestamptz)
               order by i
               on conflict do nothing
               returning id),
             outbox as (
               insert into ${changesTable} (id, kind, resource_type, subject_uri, subject, uris, txn_base, op_index, owner, feed_id, data, created_at)
               select x.id, kind, resource_type, subject_uri, subject, uris, txn_base, op_index, owner, feed_id, data, created_at
               from json_to_recordset(${JSON.stringify(outbox)}::json)
                 as x(i int, rid uuid, id uuid, kind text, resource_type text, subject_uri text, subject jsonb, uris text[], txn_base text, op_index int, owner text, feed_id text, data jsonb, created_at timestamptz)
               where x.rid in (select id from stored)
               order by i)
        select id::text from stored`);
      const stored = new Set((r.rows as { id: string }[]).map((x) => x.id));
      if (outbox.length > 0 && stored.size > 0) inserted();
      return items.map(({ row }) => stored.has(row.id));
    },

    /**
     * Adds members to a group that is still at `version` (read before, without a lock: the group
     * row is locked only for this statement, so a concurrent change is waited for and then seen).
     * All or nothing: when an id names no resource, nothing is added and the missing ids come back
     * in the order given. When a member was added, the version goes up by one, `lastModified`
     * is set and the outbox rows (built for version + 1) are stored; when every id was already a
     * member (and none had a new `display` sent), nothing changes. 'moved': the group changed or
     * went away meanwhile; read it again. `memberIds` are uuids, not the group's own id (the caller
     * checks both); `displays` the `display` the client sent with some of them, stored as sent.
     */
    async addMembers(a: AddMembers): Promise<AddMembersResult> {
      if (!isUuid(a.groupId) || !a.memberIds.every(isUuid)) throw new RangeError('addMembers takes uuids');
      const ids = `{${a.memberIds.join(',')}}`;
      // A named prepared statement, planned once per connection. The arrays are unnested from
      // subselects so that a custom plan cannot see their length either: otherwise PostgreSQL
      // estimated one member for the custom plans and a hundred for the generic one, found the
      // generic dearer and planned every call afresh (about 1.2 ms of planning per add).
      const r = await executeNamed(db, sql`
        with g as (
               select id from ${resources} where id = ${a.groupId}::uuid and resource_type = 'Group' and version = ${a.version}::int for update),
             wanted as (select x.m, x.d, x.n from unnest((select ${ids}::uuid[]), (select ${displaysLiteral(a.memberIds, a.displays)}::text[])) with ordinality as x(m, d, n)),
             missing as (select w.m, w.n from wanted w where not exists (select 1 from ${resources} r where r.id = w.m)),
             added as (
               insert into ${groupMembers} (group_id, member_id, display)
               select g.id, w.m, w.d from g, wanted w where not exists (select 1 from missing) order by w.n
               ${onConflictKeepOrRedisplay} returning member_id),
             bumped as (
               update ${resources} r set version = r.version + 1, last_modified = ${a.lastModified.toISOString()}::timestamptz
               from g where r.id = g.id and exists (select 1 from added) returning r.version),
             outbox as (${insertChanges(changesJson(a.changes), sql`exists (select 1 from bumped)`)})
        select (select count(*) from g)::int as locked,
               array(select m::text from missing order by n) as missing,
               (select count(*) from added)::int as added,
               (select version from bumped) as version`);
      const row = r.rows[0] as { locked: number; missing: string[]; added: number; version: number | null };
      if (row.locked === 0) return { kind: 'moved' };
      if (row.missing.length > 0) return { kind: 'missing', missing: row.missing };
      if (row.version !== null && a.changes.length > 0) inserted();
      return { kind: 'done', added: row.added, version: row.version ?? undefined };
    },

    /**
     * Several `addMembers` in one statement and one commit: the group commit of member adds that
     * arrived together (index.ts). Each keeps its own answer, exactly as `addMembers` would give
     * it: one group that moved or one missing member fails its own add, never another's. A group
     * named twice is written in a second round after the first (one statement each), where it
     * finds the version the first round left.
     */
    async addMembersMany(items: readonly AddMembers[]): Promise<AddMembersResult[]> {
      if (!items.every((a) => isUuid(a.groupId) && a.memberIds.every(isUuid))) throw new RangeError('addMembers takes uuids');
      const results: AddMembersResult[] = new Array(items.length);
      for (const round of rounds(items)) {
        const answers = await addRound(round.map((k) => items[k]!));
        round.forEach((k, j) => (results[k] = answers[j]!));
      }
      const bumped = (r: AddMembersResult) => r.kind === 'done' && r.version !== undefined;
      if (items.some((a, k) => a.changes.length > 0 && bumped(results[k]!))) inserted();
      return results;
    },
  };

  /**
   * One statement for adds to distinct groups. Each group row is locked in id order (two batches in
   * flight never wait on each other in a cycle); `k` ties members, outbox rows and answers to
   * their add.
   */
  async function addRound(items: readonly AddMembers[]): Promise<AddMembersResult[]> {
    const adds = items.map((a, k) => ({ k, gid: a.groupId, ver: a.version, lm: a.lastModified.toISOString() }));
    const wanted = items.flatMap((a, k) => a.memberIds.map((m, n) => ({ k, m, d: a.displays?.get(m) ?? null, n })));
    const outbox = items.flatMap((a, k) => changeRecords(a.changes).map((c) => ({ ...c, k }))).map((c, i) => ({ ...c, i }));
    const r = await executeNamed(
      db,
      sql`
        with adds as (
               select * from json_to_recordset(${JSON.stringify(adds)}::json) as x(k int, gid uuid, ver int, lm timestamptz)),
             g as (
               select a.k, r.id from adds a join ${resources} r on r.id = a.gid
               where r.resource_type = 'Group' and r.version = a.ver order by r.id for update of r),
             wanted as (
               select * from json_to_recordset(${JSON.stringify(wanted)}::json) as x(k int, m uuid, d text, n int)),
             missing as (select w.k, w.m, w.n from wanted w where not exists (select 1 from ${resources} r where r.id = w.m)),
             added as (
               insert into ${groupMembers} (group_id, member_id, display)
               select g.id, w.m, w.d from g join wanted w on w.k = g.k
               where not exists (select 1 from missing x where x.k = g.k) order by w.k, w.n
               ${onConflictKeepOrRedisplay} returning group_id),
             bumped as (
               update ${resources} r set version = r.version + 1, last_modified = a.lm
               from g join adds a on a.k = g.k
               where r.id = g.id and exists (select 1 from added x where x.group_id = g.id) returning r.id, r.version),
             outbox as (
               insert into ${changesTable} (id, kind, resource_type, subject_uri, subject, uris, txn_base, op_index, owner, feed_id, data, created_at)
               select x.id, kind, resource_type, subject_uri, subject, uris, txn_base, op_index, owner, feed_id, data, created_at
               from json_to_recordset(${JSON.stringify(outbox)}::json)
                 as x(i int, k int, id uuid, kind text, resource_type text, subject_uri text, subject jsonb, uris text[], txn_base text, op_index int, owner text, feed_id text, data jsonb, created_at timestamptz)
               where x.k in (select g.k from g join bumped b on b.id = g.id)
               order by i)
        select a.k,
               exists (select 1 from g where g.k = a.k) as locked,
               array(select x.m::text from missing x where x.k = a.k order by x.n) as missing,
               (select count(*) from added x join g on g.id = x.group_id where g.k = a.k)::int as added,
               (select b.version from bumped b join g on g.id = b.id where g.k = a.k) as version
        from adds a order by a.k`,
    );
    return (r.rows as { locked: boolean; missing: string[]; added: number; version: number | null }[]).map((row) => {
      if (!row.locked) return { kind: 'moved' };
      if (row.missing.length > 0) return { kind: 'missing', missing: row.missing };
      return { kind: 'done', added: row.added, version: row.version ?? undefined };
    });
  }
}

/** What `addMembers` takes: see there. */
export interface AddMembers {
  readonly groupId: string;
  readonly version: number;
  readonly memberIds: readonly string[];
  readonly displays?: ReadonlyMap<string, string> | undefined;
  readonly lastModified: Date;
  readonly changes: readonly NewChange[];
}

/** The indexes of `items` in rounds in which no group appears twice, each in the order given. */
export function rounds(items: readonly { groupId: string }[]): number[][] {
  const out: number[][] = [];
  const depth = new Map<string, number>();
  items.forEach((a, k) => {
    const d = depth.get(a.groupId) ?? 0;
    depth.set(a.groupId, d + 1);
    (out[d] ??= []).push(k);
  });
  return out;
}
