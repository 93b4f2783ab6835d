import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import type { Db } from './db.js';
import type { resources } from './schema.js';

/**
 * Statements sent to pg as they are, for the hot reads: drizzle's query builder and its per-query
 * result mapping cost more CPU than the statement itself on a get by id or a filtered page. The
 * statements still run on the connection of `db`, so inside withTx they join its transaction.
 */

export interface Queryable {
  query<R extends pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>>;
}

/** The pool (or, in a transaction, the checked-out client) under a drizzle node-postgres handle. */
export function clientOf(db: Db): Queryable {
  const client = (db as unknown as { session?: { client?: Queryable } }).session?.client;
  if (!client || typeof client.query !== 'function') throw new Error('the drizzle handle has no pg client');
  return client;
}

const dialect = new PgDialect();

/** A drizzle `sql` fragment as pg's query config: text with $n placeholders and its values. */
export function render(q: SQL): pg.QueryConfig {
  const { sql: text, params } = dialect.sqlToQuery(q);
  return { text, values: params };
}

/**
 * The same statement text under one name for the life of the process, so each connection parses
 * and plans it once (after five runs PostgreSQL keeps a generic plan when it costs no more than
 * the custom ones). Connections keep what they prepared until they close, so the names are
 * bounded: past `MAX_NAMED` texts a statement goes unnamed, parsed each time as before.
 */
const MAX_NAMED = 64;
const names = new Map<string, string>();

export function named(config: pg.QueryConfig): pg.QueryConfig {
  let name = names.get(config.text);
  if (name === undefined) {
    if (names.size >= MAX_NAMED) return config;
    name = `scimcast_q${names.size}`;
    names.set(config.text, name);
  }
  return { ...config, name };
}

/**
 * A drizzle `sql` statement whose text never changes (only its parameters do), run as a named
 * prepared statement on the connection of `db`: PostgreSQL parses and plans it once per
 * connection instead of on every call, which for a write's CTE costs more than executing it.
 */
export function executeNamed<R extends pg.QueryResultRow>(db: Db, q: SQL): Promise<pg.QueryResult<R>> {
  return clientOf(db).query<R>(named(render(q)));
}

/**
 * The columns of `resources`, named: never `select *`, so a named prepared statement keeps its
 * result type when a migration adds a column (PostgreSQL re-plans it; `*` would fail it with
 * "cached plan must not change result type").
 */
export const RESOURCE_COLUMNS = ['id', 'resource_type', 'user_name', 'external_id', 'display_name', 'active', 'doc', 'version', 'created', 'last_modified'] as const;

/** `a.id, a.resource_type, …` for table alias `a`. */
export const columnsOf = (alias: string) => RESOURCE_COLUMNS.map((c) => `${alias}.${c}`).join(', ');

export interface RawResourceRow {
  id: string;
  resource_type: string;
  user_name: string | null;
  external_id: string | null;
  display_name: string | null;
  active: boolean | null;
  doc: unknown;
  version: number;
  created: Date;
  last_modified: Date;
}

/** pg parses uuid, jsonb, int4 and timestamptz (to Date) itself; only the names change. */
export function resourceRowOf(r: RawResourceRow): typeof resources.$inferSelect {
  return {
    id: r.id,
    resourceType: r.resource_type,
    userName: r.user_name,
    externalId: r.external_id,
    displayName: r.display_name,
    active: r.active,
    doc: r.doc,
    version: r.version,
    created: r.created,
    lastModified: r.last_modified,
  };
}
