import type { JSONWebKeySet } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeTxn } from '../../src/async/execute.js';
import type { SetClaims } from '../../src/events/claims.js';
import { verifySet } from '../../src/events/verify.js';
import { MAX_WAIT_SECONDS } from '../../src/async/admission.js';
import { makePrune } from '../../src/worker/tasks/prune.js';
import { startWorker, type WorkerHandle } from '../../src/worker/run.js';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { pollAll } from '../helpers/sets.js';

/**
 * Asynchronous /Bulk (RFC 9967 §2.5.1.2): Prefer wait=N (RFC 7240 §4.3), the full 202 (RFC 9967
 * §2.5.1.1), synchronous admission errors, rfc9967 and draft-03 bulk txns, the asyncresp of
 * operations skipped after failOnErrors, asyncresp routing to the requester's streams only, and
 * the status resource's progression and retention.
 * Real database, real graphile-worker, real SETs verified against the JWKS.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const ASYNCRESP = 'urn:ietf:params:scim:event:misc:asyncresp';
const ASYNCRESP_DRAFT03 = 'urn:ietf:params:SCIM:event:misc:asyncResp';
const CREATE_NOTICE = 'urn:ietf:params:scim:event:prov:create:notice';
const MAX_OPS = 20;
const DAY = 86_400_000;

const userOp = (bulkId: string, userName: string) => ({ method: 'POST', path: '/Users', bulkId, data: { schemas: [USER], userName } });
const bulkBody = (Operations: unknown[], extra: Record<string, unknown> = {}) => ({ schemas: [BULK], Operations, ...extra });
const pathOf = (url: string) => new URL(url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A clock the retention test moves forward; otherwise the system clock. */
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };

function helpers(get: () => TestApp) {
  const jwks = async () => (await get().req('GET', '/jwks.json', undefined, { auth: null })).json() as JSONWebKeySet;
  /** Follow the Location until the request is finished (generous: the machine may be loaded). */
  const waitForCompletion = async (location: string, token?: string) => {
    for (let i = 0; i < 600; i++) {
      const res = await get().req('GET', pathOf(location), undefined, { auth: token });
      if (res.json().status === 'completed') return res;
      await sleep(50);
    }
    throw new Error(`async request ${location} did not complete`);
  };
  /** Every SET waiting on a poll stream, verified and acknowledged (RFC 8936). */
  const drain = async (streamId: string, token?: string): Promise<SetClaims[]> =>
    pollAll(async (body) => (await get().req('POST', `/ssf/streams/${streamId}/poll`, body, { auth: token })).json(), await jwks());
  const newFeed = async (body: Record<string, unknown>, token?: string) =>
    (await get().req('POST', '/ssf/streams', body, { auth: token })).json() as { stream_id: string; aud: string };
  return { jwks, waitForCompletion, drain, newFeed };
}

/** The async state a user can observe: rows behind GET /AsyncRequests, and queued jobs. */
async function asyncState(t: TestApp) {
  const { rows } = await t.database.pool.query(
    `select (select count(*) from txns)::int as txns, (select count(*) from graphile_worker._private_jobs j join graphile_worker._private_tasks k on k.id = j.task_id where k.identifier = 'apply_async_request')::int as jobs`,
  );
  const listed = (await t.req('GET', '/scim/v2/AsyncRequests')).json().totalResults as number;
  return { ...(rows[0] as { txns: number; jobs: number }), listed };
}

function expectAccepted(res: LightMyRequestResponse): string {
  expect(res.statusCode, res.body).toBe(202);
  expect(res.body).toBe('');
  const txn = res.headers['set-txn'] as string;
  expect(txn).toMatch(/^[0-9a-f]{32}$/);
  expect(res.headers['preference-applied']).toBe('respond-async');
  expect(res.headers.location).toBe(`${BASE_URL}/scim/v2/AsyncRequests/${txn}`);
  expect(res.headers['retry-after']).toBe('1');
  return txn;
}

/** Hold a row lock on a resource so that the operation writing it waits (a slow back end). */
async function lockResource(dbUrl: string, id: string) {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  await c.query('begin');
  await c.query('select 1 from resources where id = $1 for update', [id]);
  return async () => {
    await c.query('commit');
    await c.end();
  };
}

describe('async requests with a running worker', () => {
  let t: TestApp;
  const h = helpers(() => t);
  let feed: { stream_id: string; aud: string };
  beforeAll(async () => {
    t = await startTestApp({ SCIMCAST_BULK_MAX_OPERATIONS: String(MAX_OPS), SCIMCAST_ASYNC_RETENTION_DAYS: '1' }, { worker: true, clock });
    feed = await h.newFeed({ events_requested: [ASYNCRESP] });
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('POST /Bulk with Prefer: respond-async (RFC 9967 §2.5.1.2)', () => {
    it('answers exactly 202, no body, Set-Txn, Preference-Applied, Location at AsyncRequests, Retry-After, whatever Accept says (RFC 9967 §2.5.1.1)', async () => {
      const txns: string[] = [];
      for (const accept of ['text/html', 'application/secevent+jwt', 'application/scim+json']) {
        const res = await t.req('POST', '/scim/v2/Bulk', bulkBody([userOp('h1', `hdr-${txns.length}`)]), { headers: { prefer: 'respond-async', accept } });
        txns.push(expectAccepted(res));
        expect(res.headers['content-type'], accept).toBeUndefined();
        await h.waitForCompletion(res.headers.location as string);
      }
      expect(new Set(txns).size).toBe(3); // a new Set-Txn each time (RFC 9967 §3)
    });

    it('a finished bulk txn with Accept: application/secevent+jwt gives its asyncresp SETs by jti, each for <txn>:<index>', async () => {
      const res = await t.req('POST', '/scim/v2/Bulk', bulkBody([userOp('a', 'sets-a'), userOp('b', 'sets-b')]), { headers: { prefer: 'respond-async' } });
      const txn = expectAccepted(res);
      const done = (await h.waitForCompletion(res.headers.location as string)).json();
      const sets = await t.req('GET', pathOf(res.headers.location as string), undefined, { headers: { accept: 'application/secevent+jwt' } });
      expect(sets.statusCode).toBe(200);
      const body = sets.json() as { sets: Record<string, string> };
      expect(Object.keys(body.sets).sort()).toEqual(done.operations.map((o: { jti: string }) => o.jti).sort());
      const claims = await Promise.all(Object.values(body.sets).map(async (j) => verifySet(j, { jwks: await h.jwks(), issuer: BASE_URL, audience: res.headers.location as string })));
      expect(claims.map((c) => c.txn).sort()).toEqual([`${txn}:0`, `${txn}:1`]);
    });

    it('malformed or over-limit bulk requests get a synchronous SCIM error: no Set-Txn, nothing stored or queued (RFC 7644 §3.7.4 limits included)', async () => {
      const before = await asyncState(t);
      const cases: [string, string | object, number, string | undefined][] = [
        ['bad JSON', '{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[', 400, 'invalidSyntax'],
        ['over maxOperations', bulkBody(Array.from({ length: MAX_OPS + 1 }, (_, i) => userOp(`m${i}`, `over-${i}`))), 413, undefined],
        ['not a BulkRequest', { schemas: [BULK], Operations: 'all of them' }, 400, undefined],
      ];
      for (const [name, body, status, scimType] of cases) {
        for (const prefer of ['respond-async', 'respond-async, wait=5']) {
          const res = await t.req('POST', '/scim/v2/Bulk', body, { headers: { prefer, 'content-type': 'application/scim+json' } });
          expect(res.statusCode, `${name} / ${prefer}: ${res.body}`).toBe(status);
          const err = res.json();
          expect(err.schemas, name).toEqual([ERROR]);
          expect(err.status, name).toBe(String(status));
          expect(typeof err.detail, name).toBe('string');
          if (scimType) expect(err.scimType, name).toBe(scimType);
          expect(res.headers['set-txn'], name).toBeUndefined();
          expect(res.headers['preference-applied'], name).toBeUndefined();
          expect(res.headers.location, name).toBeUndefined();
        }
      }
      expect(await asyncState(t)).toEqual(before);
      // Nothing was created either.
      const found = await t.req('GET', '/scim/v2/Users?filter=' + encodeURIComponent('userName sw "over-"'));
      expect(found.json().totalResults).toBe(0);
    });
  });

  describe('Prefer: respond-async, wait=N on /Bulk (RFC 7240 §4.3)', () => {
    it('finished within N seconds: the synchronous 200 BulkResponse, without Preference-Applied or Set-Txn', async () => {
      const res = await t.req(
        'POST',
        '/scim/v2/Bulk',
        bulkBody([userOp('w1', 'wait-1'), userOp('w2', 'wait-2'), { method: 'POST', path: '/Groups', bulkId: 'wg', data: { schemas: [GROUP], displayName: 'Waited', members: [{ value: 'bulkId:w1' }] } }]),
        { headers: { prefer: 'respond-async, wait=30' } },
      );
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['preference-applied']).toBeUndefined();
      expect(res.headers['set-txn']).toBeUndefined();
      expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
      const body = res.json();
      expect(body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:BulkResponse']);
      expect(body.Operations.map((o: { bulkId: string; status: string; method: string }) => [o.method, o.bulkId, o.status])).toEqual([
        ['POST', 'w1', '201'],
        ['POST', 'w2', '201'],
        ['POST', 'wg', '201'],
      ]);
      for (const o of body.Operations) expect(o).toMatchObject({ version: 'W/"1"', location: expect.stringMatching(/^https:\/\/scim\.example\.test\/scim\/v2\/(Users|Groups)\/[^/]+$/) });
      const group = (await t.req('GET', pathOf(body.Operations[2].location))).json();
      expect(group.members.map((m: { value: string }) => m.value)).toEqual([pathOf(body.Operations[0].location).split('/').pop()]);
      expect((await t.req('GET', pathOf(body.Operations[1].location))).json().userName).toBe('wait-2');
    });

    it('finished within N seconds with failOnErrors reached: the same operations a synchronous /Bulk returns, skipped ones left out (RFC 7644 §3.7.3)', async () => {
      await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'wait-taken' });
      const ops = [userOp('f1', 'wait-taken'), userOp('f2', 'wait-skip-1'), userOp('f3', 'wait-skip-2')];
      const waited = await t.req('POST', '/scim/v2/Bulk', bulkBody(ops, { failOnErrors: 1 }), { headers: { prefer: 'respond-async, wait=30' } });
      const sync = await t.req('POST', '/scim/v2/Bulk', bulkBody(ops, { failOnErrors: 1 }));
      expect(waited.statusCode, waited.body).toBe(200);
      expect(sync.statusCode).toBe(200);
      expect(waited.json().Operations).toEqual(sync.json().Operations);
      expect(waited.json().Operations).toMatchObject([{ bulkId: 'f1', status: '409', response: { scimType: 'uniqueness', status: '409' } }]);
      expect((await t.req('GET', '/scim/v2/Users?filter=' + encodeURIComponent('userName sw "wait-skip"'))).json().totalResults).toBe(0);
    });

    it('a huge wait is capped (MAX_WAIT_SECONDS), not overflowed into an immediate 202 or a job held back for years', async () => {
      const res = await t.req('POST', '/scim/v2/Bulk', bulkBody([userOp('hw', 'wait-huge')]), { headers: { prefer: 'respond-async, wait=999999999' } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().Operations).toMatchObject([{ bulkId: 'hw', status: '201' }]);
      const single = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'wait-huge-single' }, { headers: { prefer: 'respond-async, wait=999999999' } });
      expect(single.statusCode, single.body).toBe(201);
      const { rows } = await t.database.pool.query(
        `select max(run_at) as last from graphile_worker._private_jobs j join graphile_worker._private_tasks k on k.id = j.task_id where k.identifier = 'apply_async_request'`,
      );
      if (rows[0].last) expect(new Date(rows[0].last).getTime()).toBeLessThanOrEqual(Date.now() + (MAX_WAIT_SECONDS + 5) * 1000);
    });

    it('not finished within N seconds: 202 with the usual headers after N seconds, and the work still completes once', async () => {
      const u = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'wait-locked' })).json();
      const release = await lockResource(t.dbUrl, u.id);
      const started = Date.now();
      let res: LightMyRequestResponse;
      try {
        res = await t.req(
          'POST',
          '/scim/v2/Bulk',
          bulkBody([userOp('l1', 'wait-late'), { method: 'PUT', path: `/Users/${u.id}`, data: { schemas: [USER], userName: 'wait-locked', title: 'later' } }]),
          { headers: { prefer: 'respond-async, wait=1' } },
        );
      } finally {
        await release();
      }
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      const txn = expectAccepted(res);
      const done = (await h.waitForCompletion(res.headers.location as string)).json();
      expect(done).toMatchObject({ id: txn, operationsCount: { total: 2, success: 2, failed: 0, pending: 0 }, percentComplete: 100 });
      expect(done.operations.map((o: { status: string }) => o.status)).toEqual(['201', '200']);
      expect((await t.req('GET', `/scim/v2/Users/${u.id}`)).json().title).toBe('later');
      // The inline run and the queued job never both apply an operation: one user, one asyncresp each.
      expect((await t.req('GET', '/scim/v2/Users?filter=' + encodeURIComponent('userName eq "wait-late"'))).json().totalResults).toBe(1);
      const mine = (await h.drain(feed.stream_id)).filter((c) => c.txn.startsWith(`${txn}:`));
      expect(mine.map((c) => c.txn).sort()).toEqual([`${txn}:0`, `${txn}:1`]);
    });
  });

  describe('asyncresp SETs for bulk (RFC 9967 §2.5.1.2, §2.5.1.3)', () => {
    it('rfc9967 feeds get misc:asyncresp with txn <txn>:0, :1, …; draft-03 feeds get misc:asyncResp with <txn>-1, -2, …', async () => {
      const modern = await h.newFeed({ events_requested: [ASYNCRESP] });
      const draft = await h.newFeed({ events_requested: [ASYNCRESP_DRAFT03], profile: 'draft-03' });
      const res = await t.req('POST', '/scim/v2/Bulk', bulkBody([userOp('p0', 'prof-0'), userOp('p1', 'prof-1'), userOp('p2', 'prof-2')]), { headers: { prefer: 'respond-async' } });
      const txn = expectAccepted(res);
      await h.waitForCompletion(res.headers.location as string);

      const m = (await h.drain(modern.stream_id)).filter((c) => c.txn.startsWith(txn));
      expect(m.map((c) => c.txn).sort()).toEqual([`${txn}:0`, `${txn}:1`, `${txn}:2`]);
      for (const c of m) expect(Object.keys(c.events)).toEqual([ASYNCRESP]);

      const d = (await h.drain(draft.stream_id)).filter((c) => c.txn.startsWith(txn));
      expect(d.map((c) => c.txn).sort()).toEqual([`${txn}-1`, `${txn}-2`, `${txn}-3`]);
      for (const c of d) expect(Object.keys(c.events)).toEqual([ASYNCRESP_DRAFT03]);
      // Same operation, same payload, whichever profile: draft-03 counts from 1.
      for (let i = 0; i < 3; i++) {
        const a = m.find((c) => c.txn === `${txn}:${i}`)!;
        const b = d.find((c) => c.txn === `${txn}-${i + 1}`)!;
        expect(a.events[ASYNCRESP]).toMatchObject({ method: 'POST', bulkId: `p${i}`, status: '201' });
        expect(b.events[ASYNCRESP_DRAFT03]).toEqual(a.events[ASYNCRESP]);
      }
    });

    it('operations skipped after failOnErrors get an asyncresp on the feed with an error response saying so', async () => {
      await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'skip-taken' });
      const res = await t.req('POST', '/scim/v2/Bulk', bulkBody([userOp('k0', 'skip-taken'), userOp('k1', 'skip-1'), userOp('k2', 'skip-2')], { failOnErrors: 1 }), {
        headers: { prefer: 'respond-async' },
      });
      const txn = expectAccepted(res);
      await h.waitForCompletion(res.headers.location as string);
      const mine = (await h.drain(feed.stream_id)).filter((c) => c.txn.startsWith(`${txn}:`));
      expect(mine.map((c) => c.txn).sort()).toEqual([`${txn}:0`, `${txn}:1`, `${txn}:2`]);
      const byTxn = new Map(mine.map((c) => [c.txn, c]));
      expect(byTxn.get(`${txn}:0`)!.events[ASYNCRESP]).toMatchObject({ method: 'POST', bulkId: 'k0', status: '409', response: { scimType: 'uniqueness' } });
      for (const i of [1, 2]) {
        const c = byTxn.get(`${txn}:${i}`)!;
        expect(c.events[ASYNCRESP]).toEqual({
          method: 'POST',
          bulkId: `k${i}`,
          status: '424',
          response: { schemas: [ERROR], status: '424', detail: expect.stringMatching(/not processed: failOnErrors limit of 1 reached/) },
        });
        expect(c.sub_id).toEqual({ format: 'scim', uri: '/Users' }); // nothing was created: the endpoint is the subject
      }
      expect((await t.req('GET', '/scim/v2/Users?filter=' + encodeURIComponent('userName sw "skip-"'))).json().totalResults).toBe(1);
    });

    it("another client's feed that asks for misc:asyncresp gets none for this client's txn, but does get its prov events", async () => {
      const other = await t.tokenWith(['feeds:admin', 'scim:read']);
      const theirs = await h.newFeed({ events_requested: [ASYNCRESP, CREATE_NOTICE] }, other);
      const res = await t.req('POST', '/scim/v2/Bulk', bulkBody([userOp('q0', 'q5-0'), userOp('q1', 'q5-1')]), { headers: { prefer: 'respond-async' } });
      const txn = expectAccepted(res);
      const done = (await h.waitForCompletion(res.headers.location as string)).json();
      const ids = done.operations.map((o: { location: string }) => o.location.split('/').pop());

      const got = (await h.drain(theirs.stream_id, other)).filter((c) => c.txn.startsWith(txn));
      expect(got.filter((c) => ASYNCRESP in c.events)).toEqual([]);
      expect(got.map((c) => Object.keys(c.events))).toEqual([[CREATE_NOTICE], [CREATE_NOTICE]]);
      expect(got.map((c) => (c.sub_id as { uri: string }).uri).sort()).toEqual(ids.map((id: string) => `/Users/${id}`).sort());
      for (const c of got) expect([c.aud].flat()).toEqual([theirs.aud]);

      const mine = (await h.drain(feed.stream_id)).filter((c) => c.txn.startsWith(`${txn}:`));
      expect(mine.map((c) => c.txn).sort()).toEqual([`${txn}:0`, `${txn}:1`]);
      for (const c of mine) expect(Object.keys(c.events)).toEqual([ASYNCRESP]);
    });
  });

  describe('retention (SCIMCAST_ASYNC_RETENTION_DAYS)', () => {
    it('after SCIMCAST_ASYNC_RETENTION_DAYS the status resource answers 404 and leaves the list; prune removes it', async () => {
      const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'retained' }, { headers: { prefer: 'respond-async' } });
      const txn = expectAccepted(res);
      const path = pathOf(res.headers.location as string);
      await h.waitForCompletion(res.headers.location as string);
      const listed = async () => ((await t.req('GET', '/scim/v2/AsyncRequests?status=completed&count=1000')).json().Resources as { id: string }[]).map((r) => r.id);
      try {
        offsetMs = DAY - 60_000; // still within the one-day retention
        expect((await t.req('GET', path)).statusCode).toBe(200);
        expect(await listed()).toContain(txn);

        offsetMs = DAY + 60_000;
        const gone = await t.req('GET', path);
        expect(gone.statusCode).toBe(404);
        expect(gone.json()).toMatchObject({ schemas: [ERROR], status: '404' });
        expect((await t.req('GET', path, undefined, { headers: { accept: 'application/secevent+jwt' } })).statusCode).toBe(404);
        expect(await listed()).not.toContain(txn);

        // The hourly prune deletes it with its results for good.
        await makePrune(t.deps)({}, {} as never);
        const { rows } = await t.database.pool.query('select (select count(*) from txns where id = $1)::int as txns, (select count(*) from txn_ops where txn_id = $1)::int as ops', [txn]);
        expect(rows[0]).toEqual({ txns: 0, ops: 0 });
        offsetMs = 0;
        expect((await t.req('GET', path)).statusCode).toBe(404);
      } finally {
        offsetMs = 0;
      }
    });
  });
});

describe('status resource progression, worker started after admission', () => {
  let t: TestApp;
  const h = helpers(() => t);
  let worker: WorkerHandle | undefined;
  beforeAll(async () => {
    t = await startTestApp({}, { worker: false });
  });
  afterAll(async () => {
    await worker?.stop();
    await t?.close();
  });

  it('two executors of one bulk txn at once (an inline wait=N run and its queued job) apply every operation once, a bulkId cycle included', async () => {
    const feed = await h.newFeed({ events_requested: [ASYNCRESP] });
    const group = (bulkId: string, displayName: string, member: string) => ({
      method: 'POST',
      path: '/Groups',
      bulkId,
      data: { schemas: [GROUP], displayName, members: [{ value: `bulkId:${member}` }] },
    });
    const res = await t.req('POST', '/scim/v2/Bulk', bulkBody([userOp('x0', 'twice-0'), group('ca', 'twice-a', 'cb'), group('cb', 'twice-b', 'ca'), userOp('x3', 'twice-3')]), {
      headers: { prefer: 'respond-async' },
    });
    const txn = expectAccepted(res);
    // No worker runs in this app yet: both executors start from the same, empty state.
    await Promise.all([executeTxn(t.deps.async, txn), executeTxn(t.deps.async, txn)]);
    const done = (await t.req('GET', pathOf(res.headers.location as string))).json();
    expect(done).toMatchObject({ status: 'completed', operationsCount: { total: 4, success: 4, failed: 0, pending: 0 } });
    const count = async (type: string, filter: string) => (await t.req('GET', `/scim/v2/${type}?filter=${encodeURIComponent(filter)}`)).json().totalResults;
    expect(await count('Users', 'userName sw "twice-"')).toBe(2);
    expect(await count('Groups', 'displayName sw "twice-"')).toBe(2);
    const a = (await t.req('GET', pathOf(done.operations[1].location))).json();
    expect(a.members.map((m: { value: string }) => m.value)).toEqual([pathOf(done.operations[2].location).split('/').pop()]);
    const sets = (await h.drain(feed.stream_id)).filter((c) => c.txn.startsWith(`${txn}:`));
    expect(sets.map((c) => c.txn).sort()).toEqual([0, 1, 2, 3].map((i) => `${txn}:${i}`));
  });

  it('pending → running → completed, with operationsCount, percentComplete, and Retry-After only while unfinished', async () => {
    const u = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'prog-locked' })).json();
    const res = await t.req(
      'POST',
      '/scim/v2/Bulk',
      bulkBody([userOp('g0', 'prog-0'), { method: 'PUT', path: `/Users/${u.id}`, data: { schemas: [USER], userName: 'prog-locked', title: 'done' } }, userOp('g2', 'prog-2')]),
      { headers: { prefer: 'respond-async' } },
    );
    const txn = expectAccepted(res);
    const path = pathOf(res.headers.location as string);
    const ids = async (token: string | undefined, status: string) =>
      ((await t.req('GET', `/scim/v2/AsyncRequests?status=${status}`, undefined, { auth: token, settle: false })).json().Resources as { id: string }[]).map((r) => r.id);

    // No worker yet: pending, nothing done.
    const pending = await t.req('GET', path);
    expect(pending.statusCode).toBe(200);
    expect(pending.headers['retry-after']).toBe('1');
    expect(pending.json()).toMatchObject({ id: txn, status: 'pending', method: 'POST', path: '/Bulk', operationsCount: { total: 3, success: 0, failed: 0, pending: 3 }, percentComplete: 0 });
    expect(pending.json().operations).toEqual([
      { index: 0, method: 'POST', bulkId: 'g0', status: 'pending' },
      { index: 1, method: 'PUT', status: 'pending' },
      { index: 2, method: 'POST', bulkId: 'g2', status: 'pending' },
    ]);
    // The completion SETs are not there yet: 202 again.
    const early = await t.req('GET', path, undefined, { headers: { accept: 'application/secevent+jwt' } });
    expect(early.statusCode).toBe(202);
    expect(early.headers['retry-after']).toBe('1');
    expect(await ids(undefined, 'pending')).toContain(txn);
    expect(await ids(undefined, 'completed')).not.toContain(txn);
    // Visible only to the requester, in the list too.
    const other = await t.tokenWith(['scim:read', 'scim:write', 'scim:bulk']);
    expect((await t.req('GET', path, undefined, { auth: other })).statusCode).toBe(404);
    expect(await ids(other, 'pending')).not.toContain(txn);

    // The PUT waits on a locked row: the worker gets through the first POST and stops there.
    const release = await lockResource(t.dbUrl, u.id);
    let running: LightMyRequestResponse | undefined;
    try {
      worker = await startWorker(t.deps, t.database.pool);
      for (let i = 0; i < 600; i++) {
        const r = await t.req('GET', path);
        if (r.json().operationsCount.success === 1) {
          running = r;
          break;
        }
        await sleep(50);
      }
    } finally {
      await release();
    }
    expect(running, 'the first operation was never applied').toBeDefined();
    expect(running!.headers['retry-after']).toBe('1');
    expect(running!.json()).toMatchObject({ status: 'running', operationsCount: { total: 3, success: 1, failed: 0, pending: 2 }, percentComplete: 33 });
    expect(running!.json().operations.map((o: { status: string }) => o.status)).toEqual(['201', 'pending', 'pending']);
    expect(await ids(undefined, 'running')).toContain(txn);

    const done = await h.waitForCompletion(res.headers.location as string);
    expect(done.headers['retry-after']).toBeUndefined();
    expect(done.json()).toMatchObject({ status: 'completed', operationsCount: { total: 3, success: 3, failed: 0, pending: 0 }, percentComplete: 100 });
    expect(done.json().operations.map((o: { status: string }) => o.status)).toEqual(['201', '200', '201']);
    expect(Date.parse(done.json().lastModified)).toBeGreaterThanOrEqual(Date.parse(done.json().created));
    expect(await ids(undefined, 'completed')).toContain(txn);
    expect(await ids(undefined, 'pending')).not.toContain(txn);
    expect(await ids(undefined, 'running')).not.toContain(txn);
  });
});
