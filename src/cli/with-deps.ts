import type { Config } from '../config/load.js';
import type { Deps } from '../deps.js';
import { makeDeps, migrateAll, openDatabase, prepare, sealStoredSecrets } from '../main.js';
import { makeDb } from '../storage/db.js';
import { runningEmbedded } from '../storage/embedded.js';

/**
 * Admin commands reach the running server's database (embedded, found through the data
 * directory's runtime.json, or DATABASE_URL), or start the embedded one for the command.
 */
export async function withDeps<T>(cfg: Config, fn: (d: Deps) => Promise<T>): Promise<T> {
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
