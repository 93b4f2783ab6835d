import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { GROUP_SCHEMA, seedUserDocSql } from './seed-doc.js';

/**
 * Seeding straight into scimcast's tables (the 1M-user scale must seed in minutes, not hours), in exactly the shape
 * a POST /Users stores: indexed columns beside the `doc` document (src/provisioning/write.ts
 * indexedColumns/storedDoc). Creating a million users through the API would measure the API, not
 * the reads the scenarios want to measure over them.
 */
export async function seedUsers(db: pg.Pool | pg.Client, from: number, to: number, log: (m: string) => void = () => {}): Promise<number> {
  const t0 = performance.now();
  const CHUNK = 100_000;
  for (let start = from; start < to; start += CHUNK) {
    const end = Math.min(to, start + CHUNK);
    await db.query(
      `insert into resources (id, resource_type, user_name, external_id, display_name, active, doc, version, created, last_modified)
       select gen_random_uuid(), 'User', 'seed-' || i, 'ext-' || i, null, true, ${seedUserDocSql('i')}, 1,
              now() - make_interval(secs => ($3::int - i) / 1000.0), now() - make_interval(secs => ($3::int - i) / 1000.0)
       from generate_series($1::int, $2::int - 1) i`,
      [start, end, to],
    );
    if (to - from > CHUNK) log(`  seeded users ${end.toLocaleString('en-US')} / ${to.toLocaleString('en-US')}`);
  }
  await db.query('analyze resources');
  return (performance.now() - t0) / 1000;
}

/** A group whose members are the seeded users [0, members). Returns its id. */
export async function seedGroup(db: pg.Pool | pg.Client, displayName: string, members: number): Promise<string> {
  const id = randomUUID();
  await db.query(
    `insert into resources (id, resource_type, display_name, doc, version, created, last_modified)
     values ($1, 'Group', $2, jsonb_build_object('schemas', jsonb_build_array($3::text), 'displayName', $2::text), 1, now(), now())`,
    [id, displayName, GROUP_SCHEMA],
  );
  await db.query(
    `insert into group_members (group_id, member_id)
     select $1::uuid, id from resources where resource_type = 'User' and user_name = any(select 'seed-' || i from generate_series(0, $2::int - 1) i)`,
    [id, members],
  );
  await db.query('analyze group_members');
  return id;
}
