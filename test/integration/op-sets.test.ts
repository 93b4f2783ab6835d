import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { FANOUT_SETTINGS } from '../../src/storage/changes.js';
import { useTestApp } from '../helpers/app.js';

/**
 * The fan-out records which asyncresp SETs each operation's streams got (the status resource
 * lists them). It runs once per fan-out batch with async results in it, against a table that
 * keeps every result for the retention period: it must find its rows by key, not by reading the
 * table, also before the table has statistics (a burst into a new database).
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
    const statements: { text: string; values: unknown[] }[] = [];
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
      const q = a[0] as { text?: string; values?: unknown[] } | string;
      const text = typeof q === 'string' ? q : q?.text;
      if (text && /^update "txn_ops"/.test(text)) statements.push({ text, values: (typeof q === 'string' ? a[1] : q.values) as unknown[] });
      return (query as (...x: unknown[]) => unknown).apply(this, a);
    } as typeof query;
    // As the fan-out runs it: in its transaction, with its settings.
    const inFanout = (run: (c: typeof t.deps.storage.changes) => Promise<void>) =>
      t.deps.storage.withTx(async (s) => {
        await s.changes.lockFanout(true);
        await run(s.changes);
      });
    try {
      await inFanout((c) => c.recordOpSets([
        { txnId: 'opsets7', opIndex: 1, sets: [{ stream_id: 's1', jti: 'j1' }] },
        { txnId: 'opsets9', opIndex: 0, sets: [] },
        { txnId: 'opsets7', opIndex: 1, sets: [{ stream_id: 's2', jti: 'j2' }] },
      ]));
      await inFanout((c) => c.recordOpSets([{ txnId: 'opsets7', opIndex: 1, sets: [{ stream_id: 's3', jti: 'j3' }] }]));
      // A batch of 65 results, as a fan-out batch of async creations records them.
      await inFanout((c) => c.recordOpSets(Array.from({ length: 65 }, (_, i) => ({ txnId: `opsets${1000 + i}`, opIndex: 0, sets: [] }))));
    } finally {
      pg.Client.prototype.query = query;
    }
    const rows = await pool.query<{ txn_id: string; op_index: number; sets: unknown }>(
      `select txn_id, op_index, sets from txn_ops where sets is not null and txn_id not between 'opsets1000' and 'opsets1064' order by txn_id, op_index`,
    );
    expect(rows.rows).toEqual([
      { txn_id: 'opsets7', op_index: 1, sets: [{ stream_id: 's1', jti: 'j1' }, { stream_id: 's2', jti: 'j2' }, { stream_id: 's3', jti: 'j3' }] },
      // "none" is an empty list, not "not yet" (null).
      { txn_id: 'opsets9', op_index: 0, sets: [] },
    ]);
    expect((await pool.query(`select count(*)::int as n from txn_ops where sets = '[]'::jsonb and txn_id between 'opsets1000' and 'opsets1064'`)).rows[0].n).toBe(65);
    // The plans PostgreSQL uses, with no statistics on the table: the generic one it keeps for the
    // prepared statement, and the one for the 65-result batch's own values. By key, never a scan
    // of every result.
    const client = await pool.connect();
    const explain = async (text: string, values?: unknown[]) => {
      await client.query('begin');
      for (const [k, v] of Object.entries(FANOUT_SETTINGS)) await client.query('select set_config($1, $2, true)', [k, v]);
      const r = await client.query<{ 'QUERY PLAN': string }>(text, values);
      await client.query('rollback');
      return r.rows.map((x) => x['QUERY PLAN']).join('\n');
    };
    const plans = [await explain(`explain (generic_plan) ${statements[0]!.text}`), await explain(`explain ${statements[2]!.text}`, statements[2]!.values)];
    client.release();
    for (const plan of plans) {
      expect(plan).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);
      expect(plan).not.toMatch(/Seq Scan on txn_ops/);
    }
  });
});
