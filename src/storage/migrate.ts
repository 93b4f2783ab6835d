import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';

const MIGRATIONS = fileURLToPath(new URL('../../drizzle', import.meta.url));

/**
 * drizzle's migrate() takes no lock; concurrent replicas starting together fail without one
 * (`CREATE SCHEMA IF NOT EXISTS` races: four concurrent calls on a fresh database failed 15
 * times in 20). Hold an advisory lock for the whole run,
 * and run `extra` (the worker schema) under the same lock.
 */
export async function migrateDatabase(pool: pg.Pool, extra?: () => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    // No SCIMCAST_STATEMENT_TIMEOUT_MS here: an index build on a large table may take minutes,
    // and waiting for another replica's migration lock must not fail the start. Reset below,
    // before the connection goes back to the pool.
    await client.query('set statement_timeout = 0');
    await client.query(`select pg_advisory_lock(hashtext('scimcast:migrate'))`);
    try {
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS, migrationsTable: '__drizzle_migrations', migrationsSchema: 'drizzle' });
      if (extra) await extra();
    } finally {
      await client.query(`select pg_advisory_unlock(hashtext('scimcast:migrate'))`);
    }
  } finally {
    await client.query('reset statement_timeout').catch(() => {});
    client.release();
  }
}
