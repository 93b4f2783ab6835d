/**
 * npm run bench:group-patch: adding one member to a 100,000-member group costs work
 * proportional to the members changed. Measures PATCH add+remove of one member on a group of
 * 100,000 members beside the same PATCH on a 1-member group, in the same run on the same database,
 * and prints the ratio (≈1 means the group's size does not matter). Embedded PostgreSQL, durable commits.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createToken } from '../src/auth/authenticate.js';
import { SCOPES } from '../src/auth/scopes.js';
import { loadConfig } from '../src/config/load.js';
import { startScimcast } from '../src/main.js';
import { freePort } from '../src/storage/embedded.js';

const MEMBERS = Number(process.argv.find((a) => a.startsWith('--members='))?.slice(10) ?? 100_000);
const ROUNDS = 200;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'scimcast-bench-'));
  const port = await freePort();
  const config = loadConfig({ SCIMCAST_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'silent', BASE_URL: `http://127.0.0.1:${port}` });
  const running = await startScimcast(config, { api: true, worker: false, logger: false });
  const { token } = await createToken(running.deps.storage, running.deps.clock, { name: 'bench', scopes: SCOPES });
  const base = `http://127.0.0.1:${port}/scim/v2`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' };
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };

  const big = await call('POST', '/Groups', { schemas: [GROUP], displayName: 'big' });
  const small = await call('POST', '/Groups', { schemas: [GROUP], displayName: 'small' });
  const probe = await call('POST', '/Users', { schemas: [USER], userName: 'probe' });
  const seedUser = await call('POST', '/Users', { schemas: [USER], userName: 'seed' });
  await call('PATCH', `/Groups/${small.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: seedUser.id }] }] });

  // Seeding 100,000 members through the API would measure bulk, not PATCH: rows go in with SQL.
  const t0 = performance.now();
  const db = new pg.Client({ connectionString: running.databaseUrl });
  await db.connect();
  await db.query(
    `with u as (
       insert into resources (id, resource_type, user_name, doc, version, created, last_modified)
       select gen_random_uuid(), 'User', 'member-' || i, jsonb_build_object('schemas', jsonb_build_array($2::text), 'userName', 'member-' || i), 1, now(), now()
       from generate_series(1, $1::int) i returning id)
     insert into group_members (group_id, member_id) select $3::uuid, id from u`,
    [MEMBERS, USER, big.id],
  );
  await db.query('analyze');
  await db.end();
  console.log(`seeded ${MEMBERS} members in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const measure = async (groupId: string) => {
    const lat: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const op = i % 2 === 0 ? { op: 'add', path: 'members', value: [{ value: probe.id }] } : { op: 'remove', path: `members[value eq "${probe.id}"]` };
      const t = performance.now();
      await call('PATCH', `/Groups/${groupId}`, { schemas: [PATCH_OP], Operations: [op] });
      lat.push(performance.now() - t);
    }
    lat.sort((a, b) => a - b);
    return { p50: lat[Math.floor(lat.length / 2)]!, p99: lat[Math.floor(lat.length * 0.99)]! };
  };
  await measure(small.id); // warm-up
  const smallRes = await measure(small.id);
  const bigRes = await measure(big.id);
  const f = (n: number) => n.toFixed(2).padStart(8);
  console.log(`PATCH add/remove one member (${ROUNDS} requests each, sequential)`);
  console.log(`  baseline: 1-member group        p50 ${f(smallRes.p50)} ms  p99 ${f(smallRes.p99)} ms`);
  console.log(`  ${String(MEMBERS).padStart(7)}-member group          p50 ${f(bigRes.p50)} ms  p99 ${f(bigRes.p99)} ms`);
  console.log(`  ratio big/small p50: ${(bigRes.p50 / smallRes.p50).toFixed(2)}`);
  await running.stop();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
