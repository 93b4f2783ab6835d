import pg from 'pg';
import { RETRYABLE_ERROR_CODES } from 'graphile-worker/dist/lib.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_FAILURE } from '../../src/core/connection-errors.js';
import { withTaggedConnectionErrors } from '../../src/worker/transient-pool.js';
import { createTestDatabase } from '../helpers/db.js';
import { startTestApp } from '../helpers/app.js';

/**
 * A connection lost under graphile-worker's own queries (recording a job's outcome)
 * must be retried, not reject unhandled and kill the process. node-postgres reports a socket that
 * dies under a query without a code; the worker's pool tags it 08006 and graphile-worker retries
 * that code. Real PostgreSQL, a real socket torn down.
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
});
afterAll(async () => {
  await pool?.end().catch(() => {});
  await db?.drop();
});

/** Tear the client's socket down while `select pg_sleep` runs: the network drops, no error message from the server. */
async function loseConnectionUnder(client: pg.PoolClient): Promise<unknown> {
  client.on('error', () => {}); // the client also emits the loss; the query's rejection is what is checked
  const q = client.query('select pg_sleep(5)').then(() => undefined, (e: unknown) => e);
  await new Promise((r) => setTimeout(r, 100));
  (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  return q;
}

describe('lost connections under the worker pool', () => {
  it('a plain pool reports "Connection terminated unexpectedly" without a code (the case graphile-worker did not retry)', async () => {
    const client = await pool.connect();
    const err = (await loseConnectionUnder(client)) as Error & { code?: string };
    client.release(err);
    expect(err.message).toMatch(/Connection terminated/);
    expect(err.code).toBeUndefined();
  });

  it('the worker pool gives it SQLSTATE 08006, which graphile-worker retries once a worker has started', async () => {
    const wrapped = withTaggedConnectionErrors(pool);
    const client = await wrapped.connect();
    const err = (await loseConnectionUnder(client)) as Error & { code?: string };
    client.release(err);
    expect(err.message).toMatch(/Connection terminated/);
    expect(err.code).toBe(CONNECTION_FAILURE);
    const t = await startTestApp({}, { worker: true });
    try {
      expect(RETRYABLE_ERROR_CODES[CONNECTION_FAILURE]).toBeDefined();
    } finally {
      await t.close();
    }
  });

  it('the wrapped pool still works as a pool: queries, callback-form connect, errors with their own codes untouched', async () => {
    const wrapped = withTaggedConnectionErrors(pool);
    expect((await wrapped.query('select 41 + 1 as n')).rows[0]).toEqual({ n: 42 });
    const viaCallback = await new Promise<number>((resolve, reject) =>
      wrapped.connect((err, client, done) => {
        if (err || !client) return reject(err);
        client.query('select 7 as n').then((r) => (done(), resolve(r.rows[0].n as number)), reject);
      }),
    );
    expect(viaCallback).toBe(7);
    const syntax = (await wrapped.query('selec 1').catch((e: unknown) => e)) as { code?: string };
    expect(syntax.code).toBe('42601');
  });
});
