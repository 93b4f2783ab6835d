import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { makeDb } from '../../src/storage/db.js';
import { startEmbeddedPostgres } from '../../src/storage/embedded.js';
import { migrateDatabase } from '../../src/storage/migrate.js';
import { migrateWorkerSchema } from '../../src/worker/run.js';

/**
 * One Postgres for the whole run: embedded unless TEST_DATABASE_URL is set.
 * Migrations run once into a template database; each test file clones it (test/helpers/db.ts).
 */
export default async function setup(project: TestProject) {
  let serverUrl = process.env.TEST_DATABASE_URL;
  let stopEmbedded = async () => {};
  if (!serverUrl) {
    const e = await startEmbeddedPostgres({ fast: true });
    serverUrl = e.url('postgres');
    stopEmbedded = () => e.stop();
  }
  const template = `scimcast_tpl_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${template}`);
  const u = new URL(serverUrl);
  u.pathname = `/${template}`;
  const database = makeDb(u.toString(), { max: 2 });
  await migrateDatabase(database.pool, () => migrateWorkerSchema(database.pool));
  await database.close();
  project.provide('pgServerUrl', serverUrl);
  project.provide('pgTemplate', template);
  return async () => {
    const rows = await admin.query(`select datname from pg_database where datname like 'scimcast_t%'`);
    for (const r of rows.rows as { datname: string }[]) await admin.query(`drop database if exists ${r.datname} with (force)`);
    await admin.end();
    await stopEmbedded();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgServerUrl: string;
    pgTemplate: string;
  }
}
