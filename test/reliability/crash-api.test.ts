import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { call, killAll, LONG, SHARED_BASE_URL, sleep, startServe, startWorkerProc, untilFannedOut, type ApiProc } from '../helpers/procs.js';
import { until } from '../helpers/receiver.js';

/**
 * The API process SIGKILLed in the middle of concurrent synchronous writes, several
 * times, restarted each time. The database must never hold a half-written request: every
 * resource has the SETs of each of its changes and every SET its change (the change and its SETs
 * commit in one transaction, docs/events-and-streams.md "The delivery path"), a group never lacks some of the members
 * it was created or patched with, and every request answered 2xx is there. Async requests
 * answered 202 before a kill stay queued and complete once a worker runs. With 32 clients,
 * creates and admissions are group-committed (several requests per statement and commit), so the
 * kills land in the middle of shared commits too: a batch is there whole or not at all, and every
 * request answered from it is there.
 * Default: 3 kills; SCIMCAST_LONG_TESTS=1: 10.
 */
const KILLS = LONG ? 10 : 3;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const EV = 'urn:ietf:params:scim:event:';

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

interface Acked {
  users: Map<string, number>; // id → the version a 2xx answer reported last
  groups: Map<string, number>; // id → member count a 2xx answer established (creates and adds only)
  txns: string[];
}

const versionOf = (etag: string | null) => Number(/\d+/.exec(etag ?? '')?.[0] ?? NaN);

/** Clients writing concurrently until the process dies under them. */
async function writeUntilDead(api: ApiProc, round: number, pool: string[], acked: Acked): Promise<{ answered: number; cut: number }> {
  let answered = 0;
  let cut = 0;
  let k = 0;
  await Promise.all(
    Array.from({ length: 32 }, async (_, c) => {
      for (;;) {
        const i = k++;
        try {
          switch (i % 5) {
            case 0:
            case 1: {
              const r = await call(api.base, 'POST', '/scim/v2/Users', { schemas: [USER], userName: `r${round}-u${i}`, emails: [{ value: `u${i}@example.com`, type: 'work' }] });
              if (r.status === 201) acked.users.set(r.json.id, versionOf(r.headers.get('etag')));
              break;
            }
            case 2: {
              const ids = [...acked.users.keys()];
              const id = ids[(i * 7) % ids.length]!;
              const r = await call(api.base, 'PATCH', `/scim/v2/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: `t${i}` }] });
              if (r.status === 200) acked.users.set(id, Math.max(acked.users.get(id)!, versionOf(r.headers.get('etag'))));
              break;
            }
            case 3: {
              // A group with 1-6 members from the stable pool, created in one request.
              const members = pool.slice(i % pool.length, (i % pool.length) + 1 + (i % 6)).map((value) => ({ value }));
              const r = await call(api.base, 'POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: `r${round}-g${i}-n${members.length}`, members });
              if (r.status === 201) acked.groups.set(r.json.id, members.length);
              break;
            }
            default: {
              const r = await call(api.base, 'POST', '/scim/v2/Users', { schemas: [USER], userName: `r${round}-a${i}` }, { prefer: 'respond-async' });
              if (r.status === 202) acked.txns.push(r.headers.get('set-txn')!);
            }
          }
          answered++;
        } catch {
          cut++; // the connection died with the process
          return;
        }
        void c;
      }
    }),
  );
  return { answered, cut };
}

describe(`the API process SIGKILLed ${KILLS} times during concurrent writes`, () => {
  it('leaves no half-written request: every change has its SETs, every SET its change', async () => {
    const log: string[] = [];
    onTestFailed(() => console.error(log.join('\n')));
    let api = await startServe(env());
    const stream = await call(api.base, 'POST', '/ssf/streams', {
      events_requested: ['prov:create:notice', 'prov:patch:notice', 'prov:put:notice', 'prov:delete', 'misc:asyncresp'].map((e) => `${EV}${e}`),
    });
    expect(stream.status, stream.text).toBe(201);
    const feedId = stream.json.stream_id as string;
    // Members for the groups: never deleted, so a group's member rows only come from its requests.
    const pool: string[] = [];
    for (let i = 0; i < 12; i++) pool.push((await call(api.base, 'POST', '/scim/v2/Users', { schemas: [USER], userName: `pool-${i}` })).json.id);
    const acked: Acked = { users: new Map(pool.map((id) => [id, 1])), groups: new Map(), txns: [] };

    for (let round = 0; round < KILLS; round++) {
      const writing = writeUntilDead(api, round, pool, acked);
      await sleep(600 + Math.floor(Math.random() * 1200));
      api.kill('SIGKILL');
      const { answered, cut } = await writing;
      await api.exited;
      log.push(`kill ${round + 1}: ${answered} requests answered, ${cut} cut off`);
      expect(cut).toBeGreaterThan(0); // the kill did land in the middle of requests
      api = await startServe(env());
    }

    // A worker completes the async requests answered 202 (they are queued durably) and signs the
    // SETs of every committed change.
    const worker = await startWorkerProc(env());
    await until(async () => Number((await db.query(`select count(*)::int as n from txns where id = any($1) and status = 'completed'`, [acked.txns])).rows[0].n) === acked.txns.length, 120_000);
    await untilFannedOut((q) => db.query(q));

    // Every answered write is there, with at least the version it was answered with.
    const rows = (await db.query(`select id, resource_type, version from resources`)).rows as { id: string; resource_type: string; version: number }[];
    const current = new Map(rows.map((r) => [r.id, r]));
    for (const [id, v] of acked.users) expect(current.get(id)?.version ?? -1, id).toBeGreaterThanOrEqual(v);
    for (const id of acked.groups.keys()) expect(current.has(id), id).toBe(true);

    // Change ⇔ SET: each resource's prov SETs carry exactly the versions 1..current (one per
    // change, none for a change that did not commit), and no SET names a resource that does not exist.
    const sets = (await db.query(`select jws, subject_uri, event_uri from events where feed_id = $1 and event_uri like '%prov:%' order by seq`, [feedId])).rows as { jws: string; subject_uri: string; event_uri: string }[];
    const versions = new Map<string, number[]>();
    for (const s of sets) {
      const claims = JSON.parse(Buffer.from(s.jws.split('.')[1]!, 'base64url').toString('utf8')) as { events: Record<string, { version?: string }> };
      const v = versionOf(Object.values(claims.events)[0]!.version ?? null);
      const id = s.subject_uri.split('/').pop()!;
      versions.set(id, [...(versions.get(id) ?? []), v]);
    }
    for (const r of rows) {
      const expected = Array.from({ length: r.version }, (_, i) => i + 1);
      expect(versions.get(r.id) ?? [], `${r.resource_type} ${r.id}`).toEqual(expected);
    }
    for (const id of versions.keys()) expect(current.has(id), `SET for a resource that does not exist: ${id}`).toBe(true);

    // The kills did land among shared commits: some answered creates share a transaction.
    const shared = (await db.query(`select count(*)::int as n from (select xmin from resources where resource_type = 'User' group by xmin having count(*) > 1) s`)).rows[0].n as number;
    expect(shared).toBeGreaterThan(0);

    // No half group: each has exactly the members its create request named.
    const groups = (await db.query(`select r.display_name, (select count(*)::int from group_members m where m.group_id = r.id) as members from resources r where r.resource_type = 'Group'`)).rows as { display_name: string; members: number }[];
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) expect(g.members, g.display_name).toBe(Number(/-n(\d+)$/.exec(g.display_name)![1]));

    // Every async request answered 202 was applied.
    expect(Number((await db.query(`select count(*)::int as n from txn_ops where txn_id = any($1) and status = '201'`, [acked.txns])).rows[0].n)).toBe(acked.txns.length);
    log.push(`${acked.users.size} users and ${acked.groups.size} groups answered, ${acked.txns.length} async requests accepted, ${sets.length} SETs checked`);
    console.log(log.join('\n'));
    worker.kill('SIGTERM');
    api.kill('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(await worker.exited).toBe(0);
  }, 300_000);
});
