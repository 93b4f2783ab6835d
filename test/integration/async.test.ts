import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySet } from '../../src/events/verify.js';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ASYNCRESP = 'urn:ietf:params:scim:event:misc:asyncresp';

let t: TestApp;
let feed: { stream_id: string; aud: string };
beforeAll(async () => {
  t = await startTestApp({}, { worker: true });
  feed = (await t.req('POST', '/ssf/streams', { events_requested: [ASYNCRESP] })).json();
});
afterAll(async () => {
  await t?.close();
});

const poll = async (streamId = feed.stream_id) =>
  (await t.req('POST', `/ssf/streams/${streamId}/poll`, { returnImmediately: true })).json() as { sets: Record<string, string> };

async function waitForCompletion(location: string, token = t.token) {
  const path = new URL(location).pathname;
  for (let i = 0; i < 200; i++) {
    const res = await t.req('GET', path, undefined, { auth: token });
    if (res.json().status === 'completed') return res;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('async request did not complete');
}

async function jwks() {
  return (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
}

describe('Prefer: respond-async on single resources (RFC 9967 §2.5.1.1, §3)', () => {
  it('answers 202 with exactly Set-Txn, Preference-Applied and Location, and an empty body (RFC 9967 §2.5.1.1)', async () => {
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'async-1' }, { headers: { prefer: 'respond-async', accept: 'text/html' } });
    expect(res.statusCode).toBe(202);
    expect(res.body).toBe('');
    const txn = res.headers['set-txn'] as string;
    expect(txn).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers['preference-applied']).toBe('respond-async');
    expect(res.headers.vary).toBe('Prefer'); // RFC 7240 §2: the answer depends on Prefer
    expect(res.headers.location).toBe(`${BASE_URL}/scim/v2/AsyncRequests/${txn}`);
    expect(res.headers['retry-after']).toBe('1');

    const done = (await waitForCompletion(res.headers.location as string)).json();
    expect(done).toMatchObject({ id: txn, status: 'completed', operationsCount: { total: 1, success: 1, failed: 0, pending: 0 }, percentComplete: 100 });
    const op = done.operations[0];
    expect(op).toMatchObject({ index: 0, method: 'POST', status: '201', version: 'W/"1"' });
    const user = await t.req('GET', new URL(op.location).pathname);
    expect(user.json().userName).toBe('async-1');

    // The asyncresp SET on the requester's own stream (RFC 9967 §2.5.1.3): txn equals Set-Txn.
    const { sets } = await poll();
    const claims = await Promise.all(Object.values(sets).map(async (j) => verifySet(j, { jwks: await jwks(), issuer: BASE_URL, audience: feed.aud })));
    const mine = claims.filter((c) => c.txn === txn);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.events[ASYNCRESP]).toEqual({ method: 'POST', location: op.location, version: 'W/"1"', status: '201' });
    expect(mine[0]!.sub_id).toMatchObject({ format: 'scim', uri: `/Users/${user.json().id}` });

    // RFC 9967 §2.5.1.1: the Location is where the completion SET itself can be fetched.
    const setRes = await t.req('GET', new URL(res.headers.location as string).pathname, undefined, { headers: { accept: 'application/secevent+jwt' } });
    expect(setRes.headers['content-type']).toMatch(/application\/secevent\+jwt/);
    const own = await verifySet(setRes.body, { jwks: await jwks(), audience: res.headers.location as string });
    expect(own.txn).toBe(txn);
    expect(own.jti).toBe(op.jti);
  });

  it('a failing operation completes with an asyncresp carrying the SCIM error (RFC 9967 §2.5.1.3)', async () => {
    await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'taken' });
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'taken' }, { headers: { prefer: 'respond-async' } });
    expect(res.statusCode).toBe(202);
    const done = (await waitForCompletion(res.headers.location as string)).json();
    expect(done.operationsCount).toEqual({ total: 1, success: 0, failed: 1, pending: 0 });
    expect(done.operations[0]).toMatchObject({ status: '409', response: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', scimType: 'uniqueness' } });
    expect(done.operations[0].location).toBeUndefined();
    const { sets } = await poll();
    const claims = await Promise.all(Object.values(sets).map(async (j) => verifySet(j, { jwks: await jwks() })));
    const ev = claims.find((c) => c.txn === res.headers['set-txn'])!;
    expect(ev.events[ASYNCRESP]).toMatchObject({ method: 'POST', status: '409', response: { scimType: 'uniqueness', status: '409' } });
    expect(ev.sub_id).toEqual({ format: 'scim', uri: '/Users' });
  });

  it('PUT and DELETE go async too; X-SCIM-Request-Mode: asynchronous is a synonym', async () => {
    const u = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'async-put' })).json();
    const put = await t.req('PUT', `/scim/v2/Users/${u.id}`, { schemas: [USER], userName: 'async-put', title: 'Boss' }, { headers: { 'x-scim-request-mode': 'asynchronous' } });
    expect(put.statusCode).toBe(202);
    await waitForCompletion(put.headers.location as string);
    expect((await t.req('GET', `/scim/v2/Users/${u.id}`)).json().title).toBe('Boss');
    const del = await t.req('DELETE', `/scim/v2/Users/${u.id}`, undefined, { headers: { prefer: 'return=minimal, respond-async' } });
    expect(del.statusCode).toBe(202);
    const done = (await waitForCompletion(del.headers.location as string)).json();
    expect(done.operations[0]).toMatchObject({ method: 'DELETE', status: '204' });
    expect((await t.req('GET', `/scim/v2/Users/${u.id}`)).statusCode).toBe(404);
  });

  it('wait=N: finished within N seconds gives the normal response without Preference-Applied (RFC 7240 §4.3)', async () => {
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'waited' }, { headers: { prefer: 'respond-async, wait=5' } });
    expect(res.statusCode).toBe(201);
    expect(res.headers['preference-applied']).toBeUndefined();
    expect(res.headers['set-txn']).toBeUndefined();
    expect(res.json().userName).toBe('waited');
  });

  it('wait=N: not finished within N seconds gives 202, and the work still completes', async () => {
    const u = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'locked' })).json();
    const blocker = new pg.Client({ connectionString: t.dbUrl });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query('select 1 from resources where id = $1 for update', [u.id]);
    const started = Date.now();
    let res;
    try {
      res = await t.req('PUT', `/scim/v2/Users/${u.id}`, { schemas: [USER], userName: 'locked', title: 'later' }, { headers: { prefer: 'respond-async, wait=1' } });
    } finally {
      await blocker.query('commit');
      await blocker.end();
    }
    expect(res.statusCode).toBe(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    await waitForCompletion(res.headers.location as string);
    expect((await t.req('GET', `/scim/v2/Users/${u.id}`)).json().title).toBe('later');
  });

  it('synchronous admission errors stay synchronous: bad JSON 400, no token 401, missing scope 403', async () => {
    const bad = await t.req('POST', '/scim/v2/Users', '{"schemas":', { headers: { prefer: 'respond-async', 'content-type': 'application/scim+json' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['set-txn']).toBeUndefined();
    expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'x' }, { auth: null, headers: { prefer: 'respond-async' } })).statusCode).toBe(401);
    const ro = await t.tokenWith(['scim:read']);
    expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'x' }, { auth: ro, headers: { prefer: 'respond-async' } })).statusCode).toBe(403);
  });

  it('the status resource is visible only to the requester, lists by status, and says 404 for unknown ids', async () => {
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'private-txn' }, { headers: { prefer: 'respond-async' } });
    const path = new URL(res.headers.location as string).pathname;
    await waitForCompletion(res.headers.location as string);
    const other = await t.tokenWith(['scim:read', 'scim:write']);
    expect((await t.req('GET', path, undefined, { auth: other })).statusCode).toBe(404);
    expect((await t.req('GET', '/scim/v2/AsyncRequests/nope')).statusCode).toBe(404);
    const list = (await t.req('GET', '/scim/v2/AsyncRequests?status=completed')).json();
    expect(list.Resources.map((r: { id: string }) => r.id)).toContain(res.headers['set-txn']);
    expect((await t.req('GET', '/scim/v2/AsyncRequests?status=weird')).statusCode).toBe(400);
  });

  it('a draft-03 feed gets misc:asyncResp; ServiceProviderConfig says asyncRequest "request"', async () => {
    const old = (await t.req('POST', '/ssf/streams', { events_requested: ['urn:ietf:params:SCIM:event:misc:asyncResp'], profile: 'draft-03' })).json();
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'draft03-async' }, { headers: { prefer: 'respond-async' } });
    await waitForCompletion(res.headers.location as string);
    const { sets } = await poll(old.stream_id);
    const [c] = await Promise.all(Object.values(sets).map(async (j) => verifySet(j, { jwks: await jwks() })));
    expect(Object.keys(c!.events)).toEqual(['urn:ietf:params:SCIM:event:misc:asyncResp']);
    const spc = (await t.req('GET', '/scim/v2/ServiceProviderConfig')).json();
    expect(spc.securityEvents.asyncRequest).toBe('request');
    expect(spc.securityEvents.eventUris).toContain(ASYNCRESP);
  });
});
