import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * Found by `npm run bench` (push scenario, 64 creating clients, one stream attached): every pooled
 * connection held a create's transaction, and each of them waited for the signing key, which the
 * key cache read through the pool once its 10 s lifetime had passed. Nothing ever finished. The
 * key is now read on the signing transaction's own connection (src/events/sign.ts). The test app's
 * pool has 10 connections; 60 concurrent writes with an expired key cache must all complete.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };

let t: TestApp;
let streamId: string;
beforeAll(async () => {
  t = await startTestApp({}, { clock });
  const res = await t.req('POST', '/ssf/streams', { description: 'pool test', events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] }, { headers: { 'content-type': 'application/json' } });
  expect(res.statusCode, res.body).toBe(201);
  streamId = res.json().stream_id;
});
afterAll(async () => {
  await t?.close();
});

/** Fails the test instead of hanging the suite when the server deadlocks. */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms: the server is stuck`)), ms))]);
}

async function pollAll(): Promise<number> {
  const res = await t.req('POST', `/ssf/streams/${streamId}/poll`, { maxEvents: 1000, returnImmediately: true }, { headers: { 'content-type': 'application/json' } });
  expect(res.statusCode, res.body).toBe(200);
  return Object.keys(res.json().sets).length;
}

describe('signing SETs while every pooled connection is in a transaction', () => {
  it('60 concurrent creates with an expired key cache all answer 201, each with its SET', async () => {
    offsetMs += 11_000; // past the key cache's 10 s lifetime
    const statuses = await within(
      30_000,
      Promise.all(Array.from({ length: 60 }, (_, i) => t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `pool-${i}` }).then((r) => r.statusCode))),
    );
    expect(statuses).toEqual(Array(60).fill(201));
    expect(await pollAll()).toBe(60);
  });

  it('a concurrent /Bulk and single writes with an expired cache also complete', async () => {
    offsetMs += 11_000;
    const bulk = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: Array.from({ length: 20 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: { schemas: [USER], userName: `pool-bulk-${i}` } })),
    };
    const results = await within(
      30_000,
      Promise.all([
        t.req('POST', '/scim/v2/Bulk', bulk).then((r) => r.statusCode),
        ...Array.from({ length: 30 }, (_, i) => t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `pool-more-${i}` }).then((r) => r.statusCode)),
      ]),
    );
    expect(results).toEqual([200, ...Array(30).fill(201)]);
  });
});
