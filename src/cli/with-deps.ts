import { resolve } from 'node:path';
import type { Config } from '../config/load.js';
import { AppError } from '../core/errors.js';
import type { Deps } from '../deps.js';
import { makeDeps, migrateAll, openDatabase, prepare, sealStoredSecrets } from '../main.js';
import { makeDb } from '../storage/db.js';
import { embeddedClusterExists, runningEmbedded } from '../storage/embedded.js';

/**
 * Why a command that acts on the database directly found none, and how to point it at the
 * server's. Creating one instead would hand out tokens, keys and stream changes that the running
 * server never sees (it answers such a token with 401), and leave a stray data directory behind.
 */
export function noDatabaseFound(dataDir: string): AppError {
  return new AppError(
    'ERR_DB_UNAVAILABLE',
    [
      `no scimcast database found: DATABASE_URL is not set, and the data directory ${resolve(dataDir)} holds no embedded PostgreSQL.`,
      'This command acts on the database directly: give it the same database as the server, in one of these ways:',
      '  --data-dir DIR                the data directory the server was started with (it holds runtime.json and pgdata/)',
      '  SCIMCAST_DATA_DIR=DIR         the same, from the environment (default ./.scimcast, relative to the current directory)',
      '  DATABASE_URL=postgres://...   the server\'s database, when it runs on one',
      'Only scimcast start, serve and migrate create a data directory.',
    ].join('\n'),
  );
}

/**
 * Throws noDatabaseFound unless the configuration names a database: DATABASE_URL, or a data
 * directory that holds a cluster (running or not). Nothing is created or started here.
 */
export function requireExistingDatabase(cfg: Config): void {
  if (!cfg.databaseUrl && !embeddedClusterExists(cfg.dataDir)) throw noDatabaseFound(cfg.dataDir);
}

/**
 * Admin commands reach the running server's database (embedded, found through the data
 * directory's runtime.json, or DATABASE_URL), or start the data directory's embedded PostgreSQL
 * for the command while no server runs. Only `create` (`scimcast migrate`) may initialise a new
 * data directory; otherwise a missing one is an error that says where the command looked.
 */
export async function withDeps<T>(cfg: Config, fn: (d: Deps) => Promise<T>, opts: { create?: boolean } = {}): Promise<T> {
  const live = cfg.databaseUrl ? undefined : runningEmbedded(cfg.dataDir);
  if (live) {
    const database = makeDb(live.url, { max: 2, statementTimeoutMs: cfg.limits.statementTimeoutMs });
    const deps = makeDeps(cfg, database);
    try {
      // The same check as at start: an admin command without the server's KEK must not write
      // secrets in plaintext next to encrypted ones, nor fail half way through.
      await sealStoredSecrets(deps.storage);
      return await fn(deps);
    } finally {
      await deps.close();
      await database.close();
    }
  }
  if (!opts.create) requireExistingDatabase(cfg);
  const dbh = await openDatabase(cfg);
  try {
    await migrateAll(dbh.database);
    const deps = makeDeps(cfg, dbh.database);
    await prepare(deps);
    try {
      return await fn(deps);
    } finally {
      await deps.close();
    }
  } finally {
    await dbh.close();
  }
}
