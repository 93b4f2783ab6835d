import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { until, type Receiver } from '../helpers/receiver.js';
import { pushStreamTo } from '../helpers/push-stream.js';

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
});
