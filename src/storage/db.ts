import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema.js';

export type Db = NodePgDatabase<typeof schema>;

export interface Database {
  readonly db: Db;
  readonly pool: pg.Pool;
  close(): Promise<void>;
}

// bigint (int8) counts arrive as strings by default; our counts fit in a JS number.
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * `statementTimeoutMs` (SCIMCAST_STATEMENT_TIMEOUT_MS) becomes each connection's
 * statement_timeout, sent when it connects, so no statement on the pool runs longer unless its
 * transaction lifts it (withTx's `statementTimeoutMs`). 0 or unset: the server's default.
 */
export function makeDb(url: string, opts: { max?: number; applicationName?: string; statementTimeoutMs?: number; settings?: Readonly<Record<string, string>> } = {}): Database {
  const settings = Object.entries(opts.settings ?? {});
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 20,
    application_name: opts.applicationName ?? 'scimcast',
    idleTimeoutMillis: 30_000,
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
    // Session settings sent in the startup packet (`-c name=value`): no extra round trip.
    ...(settings.length > 0 ? { options: settings.map(([k, v]) => `-c ${k}=${v}`).join(' ') } : {}),
  });
  // A dropped idle connection (database restart) must not crash the process; the pool reconnects.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}

/**
 * A second, small pool on the database of `pool`, with its settings: the worker's fan-out signs
 * and stores on its own connections, so it never waits behind the jobs or requests of the first.
 */
export function siblingDatabase(pool: pg.Pool, max: number, applicationName: string, settings?: Readonly<Record<string, string>>): Database {
  const o = pool.options as pg.PoolConfig;
  if (!o.connectionString) throw new Error('the pool has no connection string');
  return makeDb(o.connectionString, { max, applicationName, ...(typeof o.statement_timeout === 'number' ? { statementTimeoutMs: o.statement_timeout } : {}), ...(settings ? { settings } : {}) });
}
