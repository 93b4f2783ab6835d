import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { killAll, startWorkerProc, type Proc } from '../helpers/procs.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';
import { receivedSets } from '../helpers/sets.js';

/**
 * RFC 8935 push from several `scimcast worker` processes on one database: each stream is served
 * by one process at a time (a session lease in PostgreSQL), so its SETs first arrive in commit
 * order, each once; when the serving process is killed (SIGKILL) mid-delivery, its lease goes
 * with its session and another process takes the stream over, from the first SET not recorded
 * delivered. The API runs in this process, without a worker.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const EV = 'urn:ietf:params:scim:event:';
const N = 200;

let t: TestApp;
const receivers: Receiver[] = [];
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await killAll();
  for (const r of receivers) await r.close();
  await t?.close();
});

const q = async (sql: string, params: unknown[] = []) => (await t.database.pool.query(sql, params)).rows;

async function worker(): Promise<Proc> {
  // A short sweep: a stream whose process died is picked up within a fraction of a second.
  // Started once its own heartbeat is in (its push service starts just after the first beat).
  const beaten = async (p: Proc) => (await q(`select count(*)::int as n from worker_heartbeats where worker_id like $1`, [`%:${p.pid}:%`]))[0].n > 0;
  return startWorkerProc({ DATABASE_URL: t.dbUrl, BASE_URL, SCIMCAST_PUSH_SWEEP_MS: '300' }, beaten);
}

async function pushStream(): Promise<{ rec: Receiver; id: string; aud: string }> {
  const rec = await startReceiver();
  receivers.push(rec);
  const res = await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url }, events_requested: [`${EV}prov:create:notice`] });
  expect(res.statusCode, res.body).toBe(201);
  return { rec, id: res.json().stream_id, aud: res.json().aud };
}

async function createUsers(prefix: string, n: number): Promise<void> {
  const ops = Array.from({ length: n }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `${prefix}${i}`, data: { schemas: [USER], userName: `${prefix}-${i}` } }));
  const res = await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK], Operations: ops });
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
}

/** The stream's SETs in commit order, as stored. */
const storedJtis = async (id: string) => (await q(`select jti from events where feed_id = $1 order by seq`, [id])).map((r) => r.jti as string);

/** The pid of the worker process whose push connection holds the stream's lease, if any. */
async function servingPid(id: string): Promise<number | undefined> {
  const rows = await q(
    `select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.objsubid = 2
        and l.classid::bigint = (hashtext('scimcast:push-lease')::bigint & 4294967295)
        and l.objid::bigint = (hashtext($1)::bigint & 4294967295)`,
    [id],
  );
  const m = /^scimcast-push (\d+)$/.exec(rows[0]?.application_name ?? '');
  return m ? Number(m[1]) : undefined;
}

async function firstArrivals(s: { rec: Receiver; aud: string }) {
  const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
  return receivedSets(s.rec.received, jwks, s.aud);
}

describe('push with several worker processes', () => {
  it(`two workers: ${N} SETs on each of two streams arrive in commit order, each exactly once, also when the serving worker is stopped (SIGTERM) half way`, async () => {
    const streams = [await pushStream(), await pushStream()];
    const procs = [await worker(), await worker()];
    onTestFailed(() => procs.forEach((p) => console.error(p.output())));
    for (const s of streams) s.rec.delayMs = 5;
    await createUsers('two', N);
    // A graceful stop records what was accepted and frees the stream: the other worker goes on.
    await until(() => streams[0]!.rec.received.length >= N / 4, 60_000);
    const pid = await servingPid(streams[0]!.id);
    const stopped = procs.find((p) => p.pid === pid)!;
    expect(stopped, `serving pid ${pid}`).toBeDefined();
    stopped.kill('SIGTERM');
    expect(await stopped.exited).toBe(0);
    const atStop = streams[0]!.rec.received.length;
    for (const s of streams) await until(async () => (await t.deps.storage.events.countsByState(s.id)).delivered === N, 90_000);
    console.log(`stopped the serving worker after ${atStop} of ${N}; the other one delivered the rest`);
    for (const s of streams) {
      const got = await firstArrivals(s);
      expect(got.first.map((c) => c.jti)).toEqual(await storedJtis(s.id));
      expect(got.duplicates).toBe(0);
      expect(s.rec.maxInFlight).toBe(1);
    }
    const rest = procs.find((p) => p !== stopped)!;
    rest.kill('SIGTERM');
    expect(await rest.exited).toBe(0);
  }, 150_000);

  it('SIGKILL of the process serving a stream mid-delivery: another worker takes it over and every SET arrives, first arrivals in commit order', async () => {
    const s = await pushStream();
    await t.req('POST', '/ssf/status', { stream_id: s.id, status: 'paused' });
    await createUsers('kill', N);
    const procs = [await worker(), await worker()];
    onTestFailed(() => procs.forEach((p) => console.error(p.output())));
    s.rec.delayMs = 15;
    await t.req('POST', '/ssf/status', { stream_id: s.id, status: 'enabled' });
    await until(() => s.rec.received.length >= 40, 60_000);
    const pid = await servingPid(s.id);
    const victim = procs.find((p) => p.pid === pid);
    expect(victim, `serving pid ${pid}`).toBeDefined();
    const killedAt = Date.now();
    victim!.kill('SIGKILL');
    await victim!.exited;
    const atKill = s.rec.received.length;
    expect(atKill).toBeLessThan(N);
    const total = (await storedJtis(s.id)).length;
    await until(async () => (await t.deps.storage.events.countsByState(s.id)).delivered === total, 90_000);
    const got = await firstArrivals(s);
    const resumedMs = s.rec.received.find((r) => r.at > killedAt)!.at - killedAt;
    console.log(`killed the serving worker after ${atKill} arrivals; the next one pushed ${resumedMs} ms later and sent ${got.duplicates} again`);
    expect(got.first.map((c) => c.jti)).toEqual(await storedJtis(s.id));
    expect(await servingPid(s.id)).toBe(procs.find((p) => p !== victim)!.pid);
  }, 150_000);
});
