import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './db.js';
import { clientOf, executeNamed } from './raw-query.js';
import { changes, feedSubjects, feedVersions, txnOps } from './schema.js';

export type ChangeRow = typeof changes.$inferSelect;
export type NewChange = Omit<ChangeRow, 'seq' | 'xid'>;

/** NOTIFY channel and payload: the fan-out wakes when changes commit. */
export const CHANGES_CHANNEL = 'scimcast_changes';
export const CHANGES_PAYLOAD = 'changes';

/** Changes per INSERT statement. */
const CHANGE_CHUNK = 5_000;

/** The advisory lock that makes one fan-out run at a time across every worker process. */
const FANOUT_LOCK = sql`hashtext('scimcast:fanout')`;

/**
 * Settings of the fan-out transaction (lockFanout).
 *
 * - `synchronous_commit = off`: see lockFanout.
 * - `enable_seqscan = off`: every statement of a batch reads rows by key (the batch's changes,
 *   its operations' results, the feeds' versions and subjects), and tables with no statistics
 *   must not turn those reads into scans. Until ANALYZE first sees `txn_ops` (the first minutes of
 *   a burst into a new database), PostgreSQL costs a lookup of a batch's 65 results by key above
 *   reading all of them, and recording a batch's SETs read every stored result: 9 to 22 ms per
 *   batch at 20,000 results. The setting only prices scans high; a read that has no index to use
 *   still runs.
 */
export const FANOUT_SETTINGS: Readonly<Record<string, string>> = Object.freeze({ synchronous_commit: 'off', enable_seqscan: 'off' });

export interface VersionRow {
  feedId: string;
  owner: string;
  /** A per-request callback feed: the one request whose asyncresp SETs it carries. */
  callbackTxn: string | null;
  version: number;
  snapshot: string;
  routing: unknown;
}

export interface SubjectRow {
  feedId: string;
  subjectUri: string;
  addedSnapshot: string;
  removedSnapshot: string | null;
}

/**
 * The fan-out's reads as named prepared statements: a batch runs them every time, and parsing and
 * planning them cost PostgreSQL more than running them (raw-query.ts).
 */
const OLDEST = {
  name: 'scimcast_changes_oldest',
  text: 'select seq, id, xid, kind, resource_type, subject_uri, subject, uris, txn_base, op_index, owner, feed_id, data, created_at from changes order by seq limit $1',
};

/**
 * The feeds are held FOR KEY SHARE until the fan-out commits (see `versions`). $1 is a JSON array
 * of the per-request callback feeds' txns to include besides the streams; `[]` for none.
 */
const VERSIONS = {
  name: 'scimcast_changes_versions',
  text:
    'select v.feed_id, f.owner, f.callback_txn, v.version, v.snapshot, v.routing from feed_versions v join feeds f on f.id = v.feed_id ' +
    'where f.callback_txn is null or f.callback_txn in (select jsonb_array_elements_text($1::jsonb)) ' +
    'order by v.feed_id, v.version for key share of f',
};

interface RawChange {
  seq: string;
  id: string;
  xid: string;
  kind: string;
  resource_type: string;
  subject_uri: string;
  subject: unknown;
  uris: string[];
  txn_base: string;
  op_index: number | null;
  owner: string | null;
  feed_id: string | null;
  data: unknown;
  created_at: Date;
}

interface RawVersion {
  feed_id: string;
  owner: string;
  callback_txn: string | null;
  /** bigint: pg returns it as text. */
  version: string;
  snapshot: string;
  routing: unknown;
}

const changeRowOf = (r: RawChange): ChangeRow => ({
  seq: Number(r.seq),
  id: r.id,
  xid: r.xid,
  kind: r.kind,
  resourceType: r.resource_type,
  subjectUri: r.subject_uri,
  subject: r.subject,
  uris: r.uris,
  txnBase: r.txn_base,
  opIndex: r.op_index,
  owner: r.owner,
  feedId: r.feed_id,
  data: r.data,
  createdAt: r.created_at,
});

/**
 * The rows as insertChanges reads them from its JSON parameter; `i` keeps their order, so `seq`
 * follows the order they were written in.
 */
export function changeRecords(rows: readonly NewChange[]) {
  return rows.map((r, i) => ({
    i,
    id: r.id,
    kind: r.kind,
    resource_type: r.resourceType,
    subject_uri: r.subjectUri,
    subject: r.subject,
    uris: r.uris,
    txn_base: r.txnBase,
    op_index: r.opIndex,
    owner: r.owner,
    feed_id: r.feedId,
    data: r.data,
    created_at: r.createdAt.toISOString(),
  }));
}

/** The rows as one JSON parameter for insertChanges. */
export const changesJson = (rows: readonly NewChange[]): string => JSON.stringify(changeRecords(rows));

/**
 * The INSERT of changesJson's rows, for a CTE: changes.insert runs it alone, and a single write
 * runs it in the statement that makes the change (single-writes.ts). `when` (a condition on the
 * statement's other CTEs) stores them only if the change happened.
 */
export function insertChanges(json: string, when?: SQL): SQL {
  return sql`insert into ${changes} (id, kind, resource_type, subject_uri, subject, uris, txn_base, op_index, owner, feed_id, data, created_at)
    select id, kind, resource_type, subject_uri, subject, uris, txn_base, op_index, owner, feed_id, data, created_at
    from json_to_recordset(${json}::json)
      as x(i int, id uuid, kind text, resource_type text, subject_uri text, subject jsonb, uris text[], txn_base text, op_index int, owner text, feed_id text, data jsonb, created_at timestamptz)
    ${when ? sql`where ${when}` : sql``}
    order by i`;
}

/**
 * `inserted` runs after each insert: the storage announces the changes once they commit
 * (announce.ts), never with a NOTIFY inside the writing transaction.
 */
export function makeChangeRepo(db: Db, inserted: () => void = () => {}) {
  return {
    /**
     * Record changes in the caller's transaction, one row each whatever the number of streams;
     * the fan-out is woken after the commit (`inserted`).
     */
    async insert(rows: readonly NewChange[]): Promise<void> {
      // One statement per chunk: a single create's outbox row costs one round trip. Building a
      // multi-row INSERT of a 10,000-operation bulk cost more CPU than storing it, hence the one
      // JSON parameter (changesJson).
      for (let i = 0; i < rows.length; i += CHANGE_CHUNK) {
        await executeNamed(db, insertChanges(changesJson(rows.slice(i, i + CHANGE_CHUNK))));
      }
      if (rows.length > 0) inserted();
    },
    /**
     * In the fan-out transaction: the lock (waiting for a running fan-out when `wait`, otherwise
     * false at once), held until the transaction ends, and the transaction's FANOUT_SETTINGS.
     *
     * The transaction commits without waiting for its WAL flush (synchronous_commit off):
     * all it writes is derived from changes that committed durably. A crash that loses its commit
     * leaves those changes in place, and fanning them out again yields the same SETs with the same
     * jtis (at worst one is pushed twice, which RFC 8935 receivers dedupe by jti). Any later
     * durable commit, such as a poll's ack, flushes it first: WAL is written in order.
     */
    async lockFanout(wait: boolean): Promise<boolean> {
      const lock = wait ? sql`pg_advisory_xact_lock(${FANOUT_LOCK}), true` : sql`pg_try_advisory_xact_lock(${FANOUT_LOCK})`;
      const settings = sql.join(
        Object.entries(FANOUT_SETTINGS).map(([k, v]) => sql.raw(`set_config('${k}', '${v}', true), `)),
        sql``,
      );
      const r = await executeNamed<{ ok: boolean }>(db, sql`select ${settings}${lock} as ok`);
      return r.rows[0]?.ok === true;
    },
    /** The oldest waiting changes, in the order they were written. */
    async oldest(limit: number): Promise<ChangeRow[]> {
      const { rows } = await clientOf(db).query<RawChange>({ ...OLDEST, values: [limit] });
      return rows.map(changeRowOf);
    },
    /**
     * Close a batch in one statement: delete exactly the rows taken (not a range: a change with a
     * smaller seq may commit after the batch was read, since sequence order is not commit order,
     * and must wait for the next batch), prune the removed subject entries no waiting change can
     * need (the removal's snapshot sees none of them), and return the smallest writing
     * transaction id still waiting, undefined when none.
     */
    async closeBatch(seqs: readonly number[]): Promise<bigint | undefined> {
      const taken = `{${seqs.join(',')}}`;
      // `waiting` reads the changes_xid8 index from its low end: the table is a queue, and a scan
      // of it would read every row deleted since the last vacuum.
      const r = await executeNamed(
        db,
        sql`with gone as (delete from ${changes} where ${changes.seq} = any(${taken}::bigint[])),
                 waiting as (select (select c.xid::xid8 from ${changes} c where c.seq <> all(${taken}::bigint[]) order by c.xid::xid8 limit 1) as x),
                 pruned as (delete from ${feedSubjects} s using waiting w
                            where s.removed_snapshot is not null and (w.x is null or pg_snapshot_xmax(s.removed_snapshot::pg_snapshot) <= w.x))
            select x::text as x from waiting`,
      );
      const x = r.rows[0]?.x as string | null | undefined;
      return x ? BigInt(x) : undefined;
    },
    /** How many changes wait for the fan-out, and since when the oldest does (metrics). */
    async backlog(): Promise<{ waiting: number; oldestAt: Date | undefined }> {
      const r = await db.execute(sql`select count(*)::int as n, extract(epoch from min(${changes.createdAt}))::float8 as oldest from ${changes}`);
      const row = r.rows[0] as { n: number; oldest: number | null } | undefined;
      return { waiting: Number(row?.n ?? 0), oldestAt: row?.oldest == null ? undefined : new Date(row.oldest * 1000) };
    },
    /**
     * Every version of every feed, oldest first per feed, with the feed's owner. The feeds are
     * held FOR KEY SHARE until the fan-out commits: a stream deleted meanwhile waits for it,
     * rather than failing the batch's INSERT on the events' foreign key. Routing updates (status,
     * filters) take a weaker lock and do not wait.
     */
    async versions(callbackTxns: readonly string[] = []): Promise<VersionRow[]> {
      // With the per-request callback feeds of these requests, in the same statement: only those a
      // batch can route to are read, so any number of callbacks waiting on their requests costs a
      // fan-out nothing, and a batch with async results costs it no second round trip.
      const { rows } = await clientOf(db).query<RawVersion>({ ...VERSIONS, values: [JSON.stringify(callbackTxns)] });
      return rows.map((r) => ({ feedId: r.feed_id, owner: r.owner, callbackTxn: r.callback_txn, version: Number(r.version), snapshot: r.snapshot, routing: r.routing }));
    },
    async dropVersions(rows: readonly { feedId: string; version: number }[]): Promise<void> {
      if (rows.length === 0) return;
      await executeNamed(db, sql`delete from ${feedVersions} v using jsonb_to_recordset(${JSON.stringify(rows.map((r) => ({ f: r.feedId, n: r.version })))}::jsonb) as x(f text, n bigint) where v.feed_id = x.f and v.version = x.n`);
    },
    /** Subject entries (present and removed) of these subjects on feeds that carry only added subjects. */
    async subjects(subjectUris: readonly string[]): Promise<SubjectRow[]> {
      if (subjectUris.length === 0) return [];
      const r = await executeNamed(
        db,
        sql`select feed_id, subject_uri, added_snapshot, removed_snapshot from ${feedSubjects}
            where subject_uri in (select jsonb_array_elements_text(${JSON.stringify(subjectUris)}::jsonb))`,
      );
      return (r.rows as { feed_id: string; subject_uri: string; added_snapshot: string; removed_snapshot: string | null }[]).map((x) => ({
        feedId: x.feed_id,
        subjectUri: x.subject_uri,
        addedSnapshot: x.added_snapshot,
        removedSnapshot: x.removed_snapshot,
      }));
    },
    /**
     * The asyncresp SETs each operation's streams got, for the status resource: one statement for
     * a batch; an operation with no such stream gets an empty list, so "not yet" and "none" differ.
     */
    async recordOpSets(rows: readonly { txnId: string; opIndex: number; sets: { stream_id: string; jti: string }[] }[]): Promise<void> {
      if (rows.length === 0) return;
      const byOp: Record<string, { stream_id: string; jti: string }[]> = {};
      for (const r of rows) (byOp[`${r.txnId}:${r.opIndex}`] ??= []).push(...r.sets);
      const ops = [...new Map(rows.map((r) => [`${r.txnId}:${r.opIndex}`, r])).values()];
      // Each row is found by its whole primary key, (txn_id, op_index) from the two arrays, and its
      // list looked up by key: one index probe per operation. Looking rows up by `txn_id = any(…)`
      // alone was costed with the default selectivity while the table had no statistics (the first
      // minutes of a burst into a new database) and read every stored result: 9 to 22 ms per
      // fan-out batch. Even by whole key, such a table's 65 probes can look dearer than one scan,
      // hence the fan-out transaction's enable_seqscan = off (FANOUT_SETTINGS). A join with
      // jsonb_to_recordset was a hash join over every result too (estimated at 100 rows).
      await executeNamed(
        db,
        sql`update ${txnOps} o set sets = coalesce(o.sets, '[]'::jsonb) || (${JSON.stringify(byOp)}::jsonb -> (k.t || ':' || k.i))
            from unnest(${`{${ops.map((r) => r.txnId).join(',')}}`}::text[], ${`{${ops.map((r) => r.opIndex).join(',')}}`}::int[]) as k(t, i)
            where o.txn_id = k.t and o.op_index = k.i`,
      );
    },
  };
}
