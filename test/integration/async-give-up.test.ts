import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type WorkerHandle } from '../../src/worker/run.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/receiver.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ASYNCRESP = 'urn:ietf:params:scim:event:misc:asyncresp';

/**
 * A request whose job fails on every attempt ends `failed`, and its operation still
 * gets a result and an asyncresp (RFC 9967 §2.5.1.2: one completion SET per requested operation), so a
 * client waiting on the feed is never left waiting. SCIMCAST_ASYNC_MAX_ATTEMPTS=1 gives up at once.
 */
let t: TestApp;
let db: pg.Client;
let worker: WorkerHandle | undefined;
beforeAll(async () => {
  t = await startTestApp({ SCIMCAST_ASYNC_MAX_ATTEMPTS: '1' });
  db = new pg.Client({ connectionString: t.dbUrl });
  await db.connect();
});
afterAll(async () => {
  await worker?.stop();
  await db?.end();
  await t?.close();
});

describe('an async request that can never be applied', () => {
  it('ends failed with a 500 result and asyncresp for its operation; nothing is applied', async () => {
    const feed = (await t.req('POST', '/ssf/streams', { events_requested: [ASYNCRESP] })).json();
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'never-applied' }, { headers: { prefer: 'respond-async' } });
    expect(res.statusCode).toBe(202);
    const txn = res.headers['set-txn'] as string;
    // The stored request is damaged before any worker runs (what a bug or a bad upgrade could do).
    await db.query(`update txns set request = '{"method":"POST","type":"Nope","body":{}}'::jsonb where id = $1`, [txn]);
    worker = await startWorker(t.deps, t.database.pool);

    const path = `/scim/v2/AsyncRequests/${txn}`;
    await until(async () => (await t.req('GET', path)).json().status === 'failed', 30_000);
    const status = (await t.req('GET', path)).json();
    expect(status.operationsCount).toEqual({ total: 1, success: 0, failed: 1, pending: 0 });
    expect(status.operations[0].status).toBe('500');
    expect(status.operations[0].response.detail).toMatch(/given up/);
    expect(JSON.stringify(status)).not.toMatch(/TypeError|stack/);

    const polled = (await t.req('POST', `/ssf/streams/${feed.stream_id}/poll`, { returnImmediately: true })).json();
    const sets = Object.values(polled.sets as Record<string, string>);
    expect(sets).toHaveLength(1);
    const claims = JSON.parse(Buffer.from(sets[0]!.split('.')[1]!, 'base64url').toString());
    expect(claims.txn).toBe(txn);
    expect(claims.events[ASYNCRESP].status).toBe('500');
    expect((await t.req('GET', '/scim/v2/Users?filter=userName eq "never-applied"')).json().totalResults).toBe(0);

    const listed = (await t.req('GET', '/scim/v2/AsyncRequests?status=failed')).json();
    expect(JSON.stringify(listed)).toContain(txn);
  });
});
