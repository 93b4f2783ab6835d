import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';

/**
 * The fan-out records which asyncresp SETs each operation's streams got (the status resource
 * lists them). It runs once per fan-out batch with async results in it, against a table that
 * keeps every result for the retention period: it must find its rows by key, not by reading the
 * table.
 */
const t = useTestApp({}, { fanout: false });

describe('asyncresp SETs recorded per operation (storage/changes.ts recordOpSets)', () => {
  it('appends each list to its operation, merges two lists for one operation, and reads only those rows', async () => {
    const pool = t.database.pool;
    await pool.query(
      `insert into txns (id, owner, kind, method, path, request, op_count, status, created_at, last_modified, expires_at)
       select 'opsets' || g, 'o', 'bulk', 'POST', '/Bulk', null, 2, 'completed', now(), now(), now() + interval '1 day' from generate_series(1, 5000) g`,
    );
    await pool.query(`insert into txn_ops (txn_id, op_index, method, status, done_at) select 'opsets' || g, i, 'POST', '201', now() from generate_series(1, 5000) g, generate_series(0, 1) i`);
    await pool.query('analyze txn_ops');
    const statements: string[] = [];
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
      const q = a[0] as { text?: string } | string;
      const text = typeof q === 'string' ? q : q?.text;
      if (text && /^update "txn_ops"/.test(text)) statements.push(text);
      return (query as (...x: unknown[]) => unknown).apply(this, a);
    } as typeof query;
    try {
      await t.deps.storage.changes.recordOpSets([
        { txnId: 'opsets7', opIndex: 1, sets: [{ stream_id: 's1', jti: 'j1' }] },
        { txnId: 'opsets9', opIndex: 0, sets: [] },
        { txnId: 'opsets7', opIndex: 1, sets: [{ stream_id: 's2', jti: 'j2' }] },
      ]);
      await t.deps.storage.changes.recordOpSets([{ txnId: 'opsets7', opIndex: 1, sets: [{ stream_id: 's3', jti: 'j3' }] }]);
    } finally {
      pg.Client.prototype.query = query;
    }
    const rows = await pool.query<{ txn_id: string; op_index: number; sets: unknown }>(`select txn_id, op_index, sets from txn_ops where sets is not null order by txn_id, op_index`);
    expect(rows.rows).toEqual([
      { txn_id: 'opsets7', op_index: 1, sets: [{ stream_id: 's1', jti: 'j1' }, { stream_id: 's2', jti: 'j2' }, { stream_id: 's3', jti: 'j3' }] },
      // "none" is an empty list, not "not yet" (null).
      { txn_id: 'opsets9', op_index: 0, sets: [] },
    ]);
    // The plan PostgreSQL keeps for the prepared statement: by key, never a scan of every result.
    const plan = (await pool.query<{ 'QUERY PLAN': string }>(`explain (generic_plan) ${statements[0]}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);
    expect(plan).not.toMatch(/Seq Scan on txn_ops/);
  });
});
