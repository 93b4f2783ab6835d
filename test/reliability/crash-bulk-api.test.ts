import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { call, CHILD_TOKEN, killAll, sleep, SHARED_BASE_URL, startServe, startWorkerProc, untilFannedOut, type ApiProc } from '../helpers/procs.js';

/**
 * RFC 7644 §3.7: each bulk operation's change commits atomically with its SETs, so
 * a crash never leaves half an operation; operations are not atomic together. The API process is
 * SIGKILLed in the middle of one large synchronous POST /Bulk (no Prefer: respond-async), twice:
 * once while it writes multi-row batches of creations, once while it applies single PATCHes.
 * After the restarts, every operation the database shows is whole: each resource has one prov
 * SET per version it reached (none missing, none for a change that did not commit), no SET names
 * a resource that does not exist, each group has all the members its operation named, and each
 * circular pair (§3.7.1) exists as a pair, each a member of the other, or not at all.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const EV = 'urn:ietf:params:scim:event:';
const USERS = 2000;
const GROUPS = 300;
const CYCLES = 40;
const PATCHES = 3000;

let dbUrl: string;
let drop: () => Promise<void>;
let db: pg.Client;
const env = () => ({ DATABASE_URL: dbUrl, BASE_URL: SHARED_BASE_URL });

beforeAll(async () => {
  ({ url: dbUrl, drop } = await createTestDatabase());
  db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
});
afterAll(async () => {
  await killAll();
  await db?.end();
  await drop?.();
});

/**
 * Users, then groups of 1-5 of them by bulkId (their displayName says how many), then circular
 * pairs of groups, then PATCHes to the users through "/Users/bulkId:…" paths.
 */
function bigBulk(round: number) {
  const ops: unknown[] = [];
  for (let i = 0; i < USERS; i++) ops.push({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: { schemas: [USER], userName: `cb${round}-u${i}` } });
  for (let g = 0; g < GROUPS; g++) {
    const members = Array.from({ length: 1 + (g % 5) }, (_, k) => ({ value: `bulkId:u${(g * 7 + k) % USERS}` }));
    ops.push({ method: 'POST', path: '/Groups', bulkId: `g${g}`, data: { schemas: [GROUP], displayName: `cb${round}-g${g}-n${members.length}`, members } });
  }
  for (let c = 0; c < CYCLES; c++) {
    for (const [me, other] of [['a', 'b'], ['b', 'a']]) {
      ops.push({ method: 'POST', path: '/Groups', bulkId: `c${c}${me}`, data: { schemas: [GROUP], displayName: `cb${round}-c${c}${me}`, members: [{ value: `bulkId:c${c}${other}` }] } });
    }
  }
  for (let p = 0; p < PATCHES; p++) {
    ops.push({ method: 'PATCH', path: `/Users/bulkId:u${p % USERS}`, data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: `t${p}` }] } });
  }
  return { schemas: [BULK], Operations: ops };
}

const count = async (sql: string, args: unknown[]) => Number((await db.query(sql, args)).rows[0].n);

/** POST the bulk, wait until `ready` says the run is where we want it, then SIGKILL the process. */
async function killDuring(api: ApiProc, round: number, ready: () => Promise<boolean>): Promise<string> {
  const sent = fetch(`${api.base}/scim/v2/Bulk`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CHILD_TOKEN}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify(bigBulk(round)),
  }).then(
    (r) => `answered ${r.status}`,
    () => 'cut off',
  );
  for (let i = 0; i < 6000 && !(await ready()); i++) await sleep(10);
  api.kill('SIGKILL');
  await api.exited;
  return sent;
}

describe('the API process SIGKILLed during a large synchronous POST /Bulk', () => {
  it('leaves only whole operations: each resource with its SETs and all its members, cycles whole or absent', async () => {
    const log: string[] = [];
    onTestFailed(() => console.error(log.join('\n')));
    let api = await startServe(env());
    const stream = await call(api.base, 'POST', '/ssf/streams', {
      events_requested: ['prov:create:notice', 'prov:patch:notice', 'prov:put:notice', 'prov:delete'].map((e) => `${EV}${e}`),
    });
    expect(stream.status, stream.text).toBe(201);
    const feedId = stream.json.stream_id as string;

    const kills: { name: string; ready: (round: number) => Promise<boolean> }[] = [
      // The first multi-row batch of creations has committed: later batches are in flight.
      { name: 'during the creations', ready: async (r) => (await count(`select count(*)::int as n from resources where user_name like $1`, [`cb${r}-u%`])) > 0 },
      // Some PATCHes have committed, one by one.
      { name: 'during the PATCHes', ready: async (r) => (await count(`select count(*)::int as n from resources where user_name like $1 and version > 1`, [`cb${r}-u%`])) >= 20 },
    ];
    for (const [round, k] of kills.entries()) {
      const outcome = await killDuring(api, round, () => k.ready(round));
      const users = await count(`select count(*)::int as n from resources where user_name like $1`, [`cb${round}-u%`]);
      const patched = await count(`select count(*)::int as n from resources where user_name like $1 and version > 1`, [`cb${round}-u%`]);
      log.push(`kill ${k.name}: request ${outcome}; ${users} users, ${patched} patched`);
      // The kill landed inside the bulk: its client never got an answer, and not every PATCH ran.
      expect(outcome).toBe('cut off');
      expect(users).toBeGreaterThan(0);
      expect(patched).toBeLessThan(USERS);
      api = await startServe(env());
    }

    const rows = (await db.query(`select id, resource_type, version, display_name from resources`)).rows as { id: string; resource_type: string; version: number; display_name: string | null }[];
    const current = new Map(rows.map((r) => [r.id, r]));

    // A worker signs the SETs of the committed changes.
    const worker = await startWorkerProc(env());
    await untilFannedOut((q) => db.query(q));
    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);

    // Resource ⇔ SETs: one prov SET per version 1..current, none for a change that did not commit.
    const sets = (await db.query(`select jws, subject_uri from events where feed_id = $1 and event_uri like '%prov:%' order by seq`, [feedId])).rows as { jws: string; subject_uri: string }[];
    const versions = new Map<string, number[]>();
    for (const s of sets) {
      const claims = JSON.parse(Buffer.from(s.jws.split('.')[1]!, 'base64url').toString('utf8')) as { events: Record<string, { version?: string }> };
      const v = Number(/\d+/.exec(Object.values(claims.events)[0]!.version ?? '')?.[0] ?? NaN);
      const id = s.subject_uri.split('/').pop()!;
      versions.set(id, [...(versions.get(id) ?? []), v]);
    }
    for (const r of rows) expect(versions.get(r.id) ?? [], `${r.resource_type} ${r.id} (${r.display_name})`).toEqual(Array.from({ length: r.version }, (_, i) => i + 1));
    for (const id of versions.keys()) expect(current.has(id), `SET for a resource that does not exist: ${id}`).toBe(true);

    // No half group: each has exactly the members its operation named.
    const groups = (await db.query(`select r.id, r.display_name, array(select m.member_id from group_members m where m.group_id = r.id) as members from resources r where r.resource_type = 'Group'`)).rows as { id: string; display_name: string; members: string[] }[];
    const byName = new Map(groups.map((g) => [g.display_name, g]));
    const plain = groups.filter((g) => /-n\d+$/.test(g.display_name));
    expect(plain.length).toBeGreaterThan(0);
    for (const g of plain) expect(g.members.length, g.display_name).toBe(Number(/-n(\d+)$/.exec(g.display_name)![1]));

    // Circular pairs (§3.7.1) commit together: both, each the other's only member, or neither.
    let pairs = 0;
    for (let round = 0; round < kills.length; round++) {
      for (let c = 0; c < CYCLES; c++) {
        const a = byName.get(`cb${round}-c${c}a`);
        const b = byName.get(`cb${round}-c${c}b`);
        expect(Boolean(a), `cycle ${round}/${c}: both or neither`).toBe(Boolean(b));
        if (!a || !b) continue;
        pairs++;
        expect(a.members).toEqual([b.id]);
        expect(b.members).toEqual([a.id]);
      }
    }
    log.push(`${rows.length} resources, ${sets.length} SETs, ${plain.length} groups and ${pairs} circular pairs checked`);

    // The restarted process serves bulk requests again.
    const after = await call(api.base, 'POST', '/scim/v2/Bulk', {
      schemas: [BULK],
      Operations: [{ method: 'POST', path: '/Users', bulkId: 'x', data: { schemas: [USER], userName: 'cb-after' } }],
    });
    expect(after.status, after.text).toBe(200);
    expect(after.json.Operations[0].status).toBe('201');
    console.log(log.join('\n'));
    api.kill('SIGTERM');
    expect(await api.exited).toBe(0);
  }, 300_000);
});
