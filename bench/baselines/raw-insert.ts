import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { bulkShape, bulkUser, GROUP_SIZE } from '../lib/bulk-body.js';
import { GROUP_SCHEMA } from '../lib/seed-doc.js';

/**
 * The write ceiling: the rows a bulk request creates — the same users, the groups and
 * their member rows — as multi-row INSERTs straight into the same PostgreSQL, in one transaction,
 * by a client that does no SCIM work, emits no SETs and keeps no per-operation results.
 * Returns the elapsed milliseconds.
 */
export async function rawInsert(db: pg.Client, tag: string, ops: number): Promise<number> {
  const { users, groups } = bulkShape(ops);
  const t0 = performance.now();
  await db.query('begin');
  const userIds: string[] = [];
  const now = new Date().toISOString();
  for (let start = 0; start < users; start += 1000) {
    const vals: unknown[] = [];
    const rows: string[] = [];
    for (let i = start; i < Math.min(users, start + 1000); i++) {
      const id = randomUUID();
      userIds.push(id);
      const doc = bulkUser(tag, i);
      const b = vals.length;
      rows.push(`($${b + 1}::uuid, 'User', $${b + 2}, $${b + 3}, null, null, $${b + 4}::jsonb, 1, $${b + 5}::timestamptz, $${b + 5}::timestamptz)`);
      vals.push(id, doc.userName, doc.externalId, JSON.stringify(doc), now);
    }
    await db.query(`insert into resources (id, resource_type, user_name, external_id, display_name, active, doc, version, created, last_modified) values ${rows.join(',')}`, vals);
  }
  for (let start = 0; start < groups; start += 500) {
    const vals: unknown[] = [];
    const rows: string[] = [];
    const members: string[] = [];
    const mvals: unknown[] = [];
    for (let g = start; g < Math.min(groups, start + 500); g++) {
      const id = randomUUID();
      const doc = { schemas: [GROUP_SCHEMA], displayName: `${tag}-g${g}` };
      const b = vals.length;
      rows.push(`($${b + 1}::uuid, 'Group', null, null, $${b + 2}, null, $${b + 3}::jsonb, 1, $${b + 4}::timestamptz, $${b + 4}::timestamptz)`);
      vals.push(id, doc.displayName, JSON.stringify(doc), now);
      for (let k = 0; k < GROUP_SIZE; k++) {
        const m = mvals.length;
        members.push(`($${m + 1}::uuid, $${m + 2}::uuid)`);
        mvals.push(id, userIds[(g * GROUP_SIZE + k) % users]);
      }
    }
    await db.query(`insert into resources (id, resource_type, user_name, external_id, display_name, active, doc, version, created, last_modified) values ${rows.join(',')}`, vals);
    if (members.length) await db.query(`insert into group_members (group_id, member_id) values ${members.join(',')}`, mvals);
  }
  await db.query('commit');
  return performance.now() - t0;
}
