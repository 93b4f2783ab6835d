import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { freePort, runningEmbedded } from '../../src/storage/embedded.js';
import { alive, call, killAll, newDataDir, removeDataDirs, spawnScimcast, startWithDataDir, type StartProc } from '../helpers/procs.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';

/**
 * `scimcast start` runs the API and the worker as two processes around one embedded PostgreSQL:
 * the worker's heartbeat names another pid than the API's, async work is applied, a worker killed
 * with SIGKILL is started again while the API keeps serving, and a signal to `scimcast start`
 * (or its death) leaves no worker process and no PostgreSQL behind.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

const receivers: Receiver[] = [];
const clients: pg.Client[] = [];
afterAll(async () => {
  await killAll();
  for (const c of clients) await c.end().catch(() => {});
  for (const r of receivers) await r.close();
  removeDataDirs();
});

interface Started extends StartProc {
  readonly db: pg.Client;
  /** The pid in the newest heartbeat (worker ids are host:pid:random). */
  workerPid(): Promise<number | undefined>;
}

async function start(dataDir: string): Promise<Started> {
  const p = await startWithDataDir(dataDir);
  const live = runningEmbedded(dataDir);
  expect(live, p.output()).toBeDefined();
  const db = new pg.Client({ connectionString: live!.url });
  // The server stops under it at the end of each test.
  db.on('error', () => {});
  await db.connect();
  clients.push(db);
  return {
    ...p,
    db,
    async workerPid() {
      const r = await db.query<{ worker_id: string }>('select worker_id from worker_heartbeats order by seen_at desc limit 1');
      const id = r.rows[0]?.worker_id;
      return id === undefined ? undefined : Number(id.split(':').at(-2));
    },
  };
}

/** An async create, then the user appears (the worker applied it). */
async function createAsync(base: string, userName: string): Promise<void> {
  const r = await call(base, 'POST', '/scim/v2/Users', { schemas: [USER], userName }, { prefer: 'respond-async' });
  expect(r.status, r.text).toBe(202);
  await until(async () => (await call(base, 'GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).json?.totalResults === 1, 60_000);
}

describe('scimcast start: API and worker in two processes', () => {
  it('runs the worker in a process of its own that applies async work, comes back after SIGKILL, and stops with SIGTERM', async () => {
    const dataDir = newDataDir();
    const s = await start(dataDir);
    onTestFailed(() => console.error(s.output()));
    // Ready at once: the worker process has beaten before the API listens.
    expect((await fetch(`${s.base}/readyz`)).status).toBe(200);
    const first = await s.workerPid();
    expect(first).toBeDefined();
    expect(first).not.toBe(s.pid);
    expect(alive(first!)).toBe(true);

    // The worker process pushes, and the API's /metrics counts its pushes.
    const rec = await startReceiver();
    receivers.push(rec);
    const stream = await call(s.base, 'POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url }, events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] }, { 'content-type': 'application/json' });
    expect(stream.status, stream.text).toBe(201);
    await createAsync(s.base, 'before-kill');
    await until(() => rec.received.length >= 1, 60_000);
    await until(async () => /scimcast_push_attempts_total\{[^}]*outcome="delivered"\} [1-9]/.test((await call(s.base, 'GET', '/metrics')).text), 30_000);

    process.kill(first!, 'SIGKILL');
    // The API keeps serving while the worker is away, and says no worker is alive (the restart
    // waits a second at least).
    expect((await call(s.base, 'GET', '/scim/v2/ServiceProviderConfig')).status).toBe(200);
    await until(async () => (await fetch(`${s.base}/readyz`)).status === 503, 10_000);
    await until(async () => {
      const pid = await s.workerPid();
      return pid !== undefined && pid !== first && alive(pid);
    }, 60_000);
    expect(s.output()).toMatch(new RegExp(`worker process ${first} exited \\(signal SIGKILL\\); starting a new one`));
    const second = (await s.workerPid())!;
    expect(alive(first!)).toBe(false);
    // The dead worker's heartbeat (and with it its job locks) was released at once, not after
    // SCIMCAST_WORKER_DEAD_AFTER_MS (30 s).
    await until(async () => Number((await s.db.query(`select count(*)::int as n from worker_heartbeats where worker_id like $1`, [`%:${first}:%`])).rows[0].n) === 0, 10_000);
    expect(s.output()).not.toMatch(/could not release/);
    await createAsync(s.base, 'after-kill');
    await until(async () => (await fetch(`${s.base}/readyz`)).status === 200, 30_000);

    s.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(alive(second)).toBe(false);
    expect(alive(s.postmasterPid)).toBe(false);
    expect(existsSync(join(dataDir, 'pgdata', 'postmaster.pid'))).toBe(false);
  }, 240_000);

  it('Ctrl-C (SIGINT to both processes) drains the API, stops the worker and the database, and exits 0', async () => {
    const dataDir = newDataDir();
    const s = await start(dataDir);
    onTestFailed(() => console.error(s.output()));
    const worker = (await s.workerPid())!;
    await createAsync(s.base, 'ctrl-c');
    // A second start on the same data directory is refused and touches nothing of the first.
    const second = spawnScimcast(['start', '--port', String(await freePort()), '--data-dir', dataDir], { DATABASE_URL: '', BASE_URL: '' });
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(new RegExp(`another scimcast process \\(pid ${s.pid}\\) is using the data directory`));
    expect(alive(worker)).toBe(true);
    expect((await fetch(`${s.base}/readyz`)).status).toBe(200);
    // A terminal sends SIGINT to the whole foreground process group.
    s.kill('SIGINT');
    process.kill(worker, 'SIGINT');
    expect(await s.exited).toBe(0);
    expect(alive(worker)).toBe(false);
    expect(alive(s.postmasterPid)).toBe(false);
    expect(existsSync(join(dataDir, 'pgdata', 'postmaster.pid'))).toBe(false);
    expect(s.output()).not.toMatch(/starting a new one/);
  }, 240_000);

  it('when scimcast start is killed, its worker process stops and stops the embedded PostgreSQL; the next start serves the data', async () => {
    const dataDir = newDataDir();
    const s = await start(dataDir);
    onTestFailed(() => console.error(s.output()));
    const worker = (await s.workerPid())!;
    await createAsync(s.base, 'survives');
    await s.db.end();
    s.kill('SIGKILL');
    await s.exited;
    await until(() => !alive(worker) && !alive(s.postmasterPid), 60_000);
    expect(existsSync(join(dataDir, 'pgdata', 'postmaster.pid'))).toBe(false);

    const again = await start(dataDir);
    onTestFailed(() => console.error(again.output()));
    const list = await call(again.base, 'GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "survives"')}`);
    expect(list.json.totalResults).toBe(1);
    await createAsync(again.base, 'second-run');
    again.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 240_000);
});
