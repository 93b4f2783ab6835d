import { scrypt } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { call, killAll, sleep, startServe, type ApiProc } from '../helpers/procs.js';

/**
 * Password hashing (scrypt N=16384, r=8, p=1: about 50 ms of CPU each) runs off the event loop.
 * Hashed synchronously, a /Bulk of users with passwords froze the whole process for N × 50 ms:
 * /healthz stopped answering, every other request waited, and the worker's heartbeat stopped,
 * so a live worker was taken for dead (SCIMCAST_WORKER_DEAD_AFTER_MS) and its jobs released.
 *
 * A real `scimcast serve` (API and worker in one process, as `npm start` runs them) gets a
 * password-heavy /Bulk, synchronous and then `Prefer: respond-async`; meanwhile /healthz is probed
 * at a fixed rate (open loop: a probe every 50 ms whatever the previous one does) and the
 * worker's heartbeat row is read. USERS is chosen so that the old code blocked for several
 * seconds at a time (USERS × 50 ms in one synchronous stretch), far above the 1 s bound, which
 * stays generous for a loaded machine.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const USERS = 150;
const DEAD_AFTER_MS = 2_000;
const PROBE_EVERY_MS = 50;
const MAX_PROBE_MS = 1_000;

let dbUrl: string;
let drop: () => Promise<void>;
let db: pg.Client;
let api: ApiProc;

beforeAll(async () => {
  ({ url: dbUrl, drop } = await createTestDatabase());
  db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  api = await startServe({ DATABASE_URL: dbUrl, SCIMCAST_WORKER_DEAD_AFTER_MS: String(DEAD_AFTER_MS) }, { worker: true });
});
afterAll(async () => {
  await killAll();
  await db?.end();
  await drop?.();
});

/** Every user gets a password; users 0 and 1 share one, so their hashes must still differ (salt). */
const passwordOf = (tag: string, i: number) => (i < 2 ? `${tag}-shared-Secret!` : `${tag}-Secret-${i}!`);
const bulkOf = (tag: string) => ({
  schemas: [BULK],
  Operations: Array.from({ length: USERS }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: { schemas: [USER], userName: `${tag}-u${i}`, password: passwordOf(tag, i) } })),
});

/** /healthz every PROBE_EVERY_MS until stopped; each probe's latency or its failure. */
function probeHealthz(base: string) {
  const latencies: number[] = [];
  const failures: string[] = [];
  const inFlight: Promise<void>[] = [];
  let running = true;
  const loop = (async () => {
    for (let next = performance.now(); running; next += PROBE_EVERY_MS) {
      const t0 = performance.now();
      inFlight.push(
        fetch(`${base}/healthz`, { signal: AbortSignal.timeout(60_000) }).then(
          async (r) => {
            await r.arrayBuffer();
            if (r.status === 200) latencies.push(performance.now() - t0);
            else failures.push(`status ${r.status}`);
          },
          (e) => void failures.push(String(e)),
        ),
      );
      await sleep(Math.max(0, next + PROBE_EVERY_MS - performance.now()));
    }
  })();
  return {
    latencies,
    failures,
    async stop() {
      running = false;
      await loop;
      await Promise.all(inFlight);
      return { count: latencies.length + failures.length, max: Math.max(...latencies), failures };
    },
  };
}

const verify = (pw: string, salt: Buffer) => new Promise<Buffer>((res, rej) => scrypt(pw, salt, 32, { N: 16384, r: 8, p: 1 }, (e, k) => (e ? rej(e) : res(k))));

/** The stored passwords of the tag's users: scrypt$16384$8$1$<salt>$<key>, each verifying against its cleartext. */
async function expectHashed(tag: string) {
  const rows = (await db.query(`select user_name, doc->>'password' as pw from resources where user_name like $1`, [`${tag}-u%`])).rows as { user_name: string; pw: string }[];
  expect(rows).toHaveLength(USERS);
  for (const [k, r] of rows.entries()) {
    const clear = passwordOf(tag, Number(/-u(\d+)$/.exec(r.user_name)![1]));
    expect(r.pw).not.toBe(clear);
    expect(r.pw).not.toContain(clear);
    const m = /^scrypt\$16384\$8\$1\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/.exec(r.pw);
    expect(m, `${r.user_name}: ${r.pw.slice(0, 20)}…`).not.toBeNull();
    // The key derives from the cleartext and the stored salt (a few: each check is a full hash).
    if (k < 5) expect((await verify(clear, Buffer.from(m![1]!, 'base64url'))).toString('base64url')).toBe(m![2]);
  }
  const shared = rows.filter((r) => /-u[01]$/.test(r.user_name)).map((r) => r.pw);
  expect(new Set(shared).size).toBe(2);
}

describe('a /Bulk of users with passwords does not stop the process answering', () => {
  it('synchronous /Bulk: /healthz keeps answering within 1 s, a single create is not queued behind the bulk, passwords are stored hashed', async () => {
    onTestFailed(() => console.error(api.output().slice(-3000)));
    const probes = probeHealthz(api.base);
    await sleep(300);
    const t0 = performance.now();
    const bulk = call(api.base, 'POST', '/scim/v2/Bulk', bulkOf('sync'));
    // A lone create with a password while the bulk hashes: it waits for a few hashes, not for all of them.
    await sleep(1_000);
    const s0 = performance.now();
    const single = await call(api.base, 'POST', '/scim/v2/Users', { schemas: [USER], userName: 'sync-lone', password: 'lone-Secret!' });
    const singleMs = performance.now() - s0;
    const res = await bulk;
    const bulkMs = performance.now() - t0;
    const p = await probes.stop();
    expect(res.status, res.text).toBe(200);
    expect(res.json.Operations.map((o: { status: string }) => o.status)).toEqual(Array(USERS).fill('201'));
    expect(single.status, single.text).toBe(201);
    // The probes spanned the whole bulk, every one answered, none waited long.
    expect(p.count).toBeGreaterThan(bulkMs / PROBE_EVERY_MS / 2);
    expect(p.failures).toEqual([]);
    expect(p.max, `slowest /healthz during a ${Math.round(bulkMs)} ms bulk`).toBeLessThan(MAX_PROBE_MS);
    expect(singleMs, `lone create during a ${Math.round(bulkMs)} ms bulk`).toBeLessThan(2_000);
    await expectHashed('sync');
  });

  it('async /Bulk in the worker: /healthz keeps answering and the worker heartbeat keeps advancing', async () => {
    onTestFailed(() => console.error(api.output().slice(-3000)));
    const probes = probeHealthz(api.base);
    const t0 = performance.now();
    const accepted = await call(api.base, 'POST', '/scim/v2/Bulk', bulkOf('async'), { prefer: 'respond-async' });
    expect(accepted.status, accepted.text).toBe(202);
    const txn = accepted.headers.get('set-txn')!;
    // The heartbeat's age, read every 100 ms until the bulk completes: the beat is due every
    // DEAD_AFTER_MS / 6; at DEAD_AFTER_MS the worker would count as dead.
    let maxAge = 0;
    const beats = new Set<string>();
    let status = '';
    while (performance.now() - t0 < 120_000) {
      const r = (await db.query(`select (select status from txns where id = $1) as status, (select max(seen_at) from worker_heartbeats) as seen, now() as now`, [txn])).rows[0];
      status = r.status;
      beats.add(String(r.seen?.getTime()));
      maxAge = Math.max(maxAge, r.now.getTime() - r.seen.getTime());
      if (status === 'completed' || status === 'failed') break;
      await sleep(100);
    }
    const bulkMs = performance.now() - t0;
    const p = await probes.stop();
    expect(status).toBe('completed');
    const done = await call(api.base, 'GET', `/scim/v2/AsyncRequests/${txn}`);
    expect(done.json.operationsCount).toEqual({ total: USERS, success: USERS, failed: 0, pending: 0 });
    expect(p.failures).toEqual([]);
    expect(p.max, `slowest /healthz during a ${Math.round(bulkMs)} ms async bulk`).toBeLessThan(MAX_PROBE_MS);
    expect(maxAge, `oldest heartbeat seen during a ${Math.round(bulkMs)} ms async bulk`).toBeLessThan(DEAD_AFTER_MS);
    // About one beat per DEAD_AFTER_MS / 6 = 333 ms; a third of that is plenty on a loaded machine.
    expect(beats.size).toBeGreaterThan(bulkMs / (DEAD_AFTER_MS / 6) / 3);
    await expectHashed('async');
  });
});

describe('PUT and PATCH store a new password hashed as well', () => {
  const stored = async (id: string) => (await db.query(`select doc->>'password' as pw from resources where id = $1`, [id])).rows[0].pw as string;
  const matches = async (hash: string, clear: string) => {
    const m = /^scrypt\$16384\$8\$1\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/.exec(hash);
    return m !== null && (await verify(clear, Buffer.from(m[1]!, 'base64url'))).toString('base64url') === m[2];
  };

  it('each new password is stored as its scrypt hash; a PATCH that leaves it alone keeps the hash', async () => {
    const created = await call(api.base, 'POST', '/scim/v2/Users', { schemas: [USER], userName: 'rw-user', password: 'first-Secret!' });
    expect(created.status, created.text).toBe(201);
    const id = created.json.id as string;
    expect(await matches(await stored(id), 'first-Secret!')).toBe(true);

    const put = await call(api.base, 'PUT', `/scim/v2/Users/${id}`, { schemas: [USER], userName: 'rw-user', Password: 'second-Secret!' });
    expect(put.status, put.text).toBe(200);
    expect(await matches(await stored(id), 'second-Secret!')).toBe(true);

    const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
    for (const [k, Operations] of [[{ op: 'replace', path: 'password', value: 'third-Secret!' }], [{ op: 'replace', value: { password: 'fourth-Secret!' } }]].entries()) {
      const patched = await call(api.base, 'PATCH', `/scim/v2/Users/${id}`, { schemas: [PATCH], Operations });
      expect(patched.status, patched.text).toBe(200);
      expect(await matches(await stored(id), ['third-Secret!', 'fourth-Secret!'][k]!)).toBe(true);
    }
    const before = await stored(id);
    const titled = await call(api.base, 'PATCH', `/scim/v2/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Boss' }] });
    expect(titled.status, titled.text).toBe(200);
    expect(await stored(id)).toBe(before);
    expect(JSON.stringify(titled.json)).not.toContain('scrypt$');
  });
});
