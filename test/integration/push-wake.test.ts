import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { until, type Receiver } from '../helpers/receiver.js';
import { pushStreamTo } from '../helpers/push-stream.js';
import { receivedSets } from '../helpers/sets.js';

/**
 * Push wakes on commit (RFC 8935 delivery): the worker's loop for a stream outlives an empty
 * queue and is woken by the NOTIFY of the next SET's commit, so a SET created after the stream
 * sat idle reaches the receiver within milliseconds, with no graphile-worker job queued for it.
 * Real worker, real Postgres, real loopback receiver.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestApp;
const receivers: Receiver[] = [];
beforeAll(async () => {
  t = await startTestApp({}, { worker: true });
});
afterAll(async () => {
  await t?.close();
  for (const r of receivers) await r.close();
});

/**
 * Every graphile-worker job ever queued for push, recorded by a trigger in this test's own
 * database (queued jobs are deleted once they complete, so counting rows would miss them).
 */
async function recordPushJobs(): Promise<() => Promise<number>> {
  await t.database.pool.query(`
    create table test_push_jobs (task text not null);
    create function test_record_push_job() returns trigger language plpgsql as $$
    begin
      insert into test_push_jobs select k.identifier from graphile_worker._private_tasks k where k.id = new.task_id and k.identifier = 'deliver_push';
      return new;
    end $$;
    create trigger test_record_push_job after insert on graphile_worker._private_jobs for each row execute function test_record_push_job();`);
  return async () => Number((await t.database.pool.query(`select count(*)::int as n from test_push_jobs`)).rows[0].n);
}

describe('push wakes on commit', () => {
  it('after the stream sat idle, each new SET reaches the receiver within a small bound of its commit; no job is queued for them', async () => {
    const pushJobs = await recordPushJobs();
    const { rec, id } = await pushStreamTo(t, receivers);
    // The first SET also waits for the worker's start, which a loaded machine slows.
    expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'wake-0' })).statusCode).toBe(201);
    await until(() => rec.received.length === 1, 45_000);
    const latencies: number[] = [];
    for (let i = 1; i <= 8; i++) {
      // Idle for longer than any poll interval or job pick-up a queue would use: the loop waits.
      await sleep(i === 1 ? 1_500 : 300);
      const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `wake-${i}` });
      const committed = Date.now();
      expect(res.statusCode).toBe(201);
      await until(() => rec.received.length === i + 1, 10_000);
      latencies.push(rec.received[i]!.at - committed);
    }
    expect(await pushJobs()).toBe(0);
    latencies.sort((a, b) => a - b);
    console.log(`commit → receiver (ms, sorted): ${latencies.join(', ')}`);
    // Generous bounds for a loaded test machine; the NOTIFY path measures a few ms.
    expect(latencies[Math.floor(latencies.length / 2)]!).toBeLessThan(250);
    expect(latencies[latencies.length - 1]!).toBeLessThan(1_000);
    await until(async () => (await t.deps.storage.events.countsByState(id)).delivered === 9);
  }, 90_000);

  it('when the database ends the connection that holds the stream, delivery stops, reconnects and goes on by itself, first arrivals in commit order', async () => {
    const { rec, id } = await pushStreamTo(t, receivers);
    rec.delayMs = 10;
    await t.req('POST', '/ssf/status', { stream_id: id, status: 'paused' });
    for (let i = 0; i < 60; i++) expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `lost-${i}` })).statusCode).toBe(201);
    await t.req('POST', '/ssf/status', { stream_id: id, status: 'enabled' });
    await until(() => rec.received.length >= 10, 30_000);
    // The session holding the stream's lease (and the LISTEN) is terminated, as a failover or an
    // administrator would.
    const ended = await t.database.pool.query(
      `select pg_terminate_backend(l.pid) as ok from pg_locks l
        where l.locktype = 'advisory' and l.granted and l.objsubid = 2
          and l.classid::bigint = (hashtext('scimcast:push-lease')::bigint & 4294967295)
          and l.objid::bigint = (hashtext($1)::bigint & 4294967295)`,
      [id],
    );
    expect(ended.rows).toEqual([{ ok: true }]);
    const stored = async () => (await t.database.pool.query(`select jti from events where feed_id = $1 order by seq`, [id])).rows.map((r) => r.jti as string);
    const total = (await stored()).length;
    await until(async () => (await t.deps.storage.events.countsByState(id)).delivered === total, 60_000);
    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    const got = await receivedSets(rec.received, jwks);
    expect(got.first.map((c) => c.jti)).toEqual(await stored());
    // Listening again: the next SET is pushed on its commit's NOTIFY.
    const before = rec.received.length;
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'lost-after' });
    const committed = Date.now();
    expect(res.statusCode).toBe(201);
    await until(() => rec.received.length > before, 10_000);
    expect(rec.received[before]!.at - committed).toBeLessThan(1_000);
  }, 120_000);
});
