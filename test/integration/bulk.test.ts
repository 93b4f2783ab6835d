import { describe, expect, it } from 'vitest';
import { verifySet } from '../../src/events/verify.js';
import { useTestApp } from '../helpers/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const ASYNCRESP = 'urn:ietf:params:scim:event:misc:asyncresp';

const t = useTestApp({ SCIMCAST_BULK_MAX_OPERATIONS: '50', SCIMCAST_BULK_MAX_PAYLOAD_SIZE: '65536' }, { worker: true });

const bulk = (Operations: unknown[], extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  t.req('POST', '/scim/v2/Bulk', { schemas: [BULK], Operations, ...extra }, { headers });
const user = (bulkId: string, userName: string, extra: Record<string, unknown> = {}) => ({ method: 'POST', path: '/Users', bulkId, data: { schemas: [USER], userName, ...extra } });
const group = (bulkId: string, displayName: string, members: string[]) => ({
  method: 'POST',
  path: '/Groups',
  bulkId,
  data: { schemas: [GROUP], displayName, members: members.map((value) => ({ value })) },
});
const idOf = (location: string) => location.slice(location.lastIndexOf('/') + 1);

describe('POST /Bulk (RFC 7644 §3.7)', () => {
  it('creates users and a group that references them by bulkId, answering 200 with one result per operation', async () => {
    const res = await bulk([user('u1', 'bulk-a'), user('u2', 'bulk-b'), group('g1', 'Bulk Group', ['bulkId:u1', 'bulkId:u2'])]);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:BulkResponse']);
    expect(body.Operations.map((o: { status: string; bulkId: string }) => [o.bulkId, o.status])).toEqual([
      ['u1', '201'],
      ['u2', '201'],
      ['g1', '201'],
    ]);
    for (const o of body.Operations) expect(o).toMatchObject({ method: 'POST', version: 'W/"1"', location: expect.stringMatching(/^https:\/\/scim\.example\.test\/scim\/v2\/(Users|Groups)\//) });
    const g = (await t.req('GET', new URL(body.Operations[2].location).pathname)).json();
    expect(g.members.map((m: { value: string }) => m.value)).toEqual([idOf(body.Operations[0].location), idOf(body.Operations[1].location)]);
  });

  it('resolves forward references and bulkIds in extension attributes (enterprise manager)', async () => {
    const res = await bulk([
      group('g', 'Forward', ['bulkId:late']),
      user('emp', 'bulk-employee', { [ENT]: { manager: { value: 'bulkId:boss' } } }),
      user('late', 'bulk-late'),
      user('boss', 'bulk-boss'),
    ]);
    const ops = res.json().Operations;
    expect(ops.map((o: { status: string }) => o.status)).toEqual(['201', '201', '201', '201']);
    const emp = (await t.req('GET', new URL(ops[1].location).pathname)).json();
    expect(emp[ENT].manager.value).toBe(idOf(ops[3].location));
    const g = (await t.req('GET', new URL(ops[0].location).pathname)).json();
    expect(g.members[0].value).toBe(idOf(ops[2].location));
  });

  it('resolves a circular reference (two new groups containing each other, §3.7.1)', async () => {
    const res = await bulk([group('ga', 'Cycle A', ['bulkId:gb']), group('gb', 'Cycle B', ['bulkId:ga'])]);
    const ops = res.json().Operations;
    expect(ops.map((o: { status: string }) => o.status)).toEqual(['201', '201']);
    const a = (await t.req('GET', new URL(ops[0].location).pathname)).json();
    const b = (await t.req('GET', new URL(ops[1].location).pathname)).json();
    expect(a.members.map((m: { value: string }) => m.value)).toEqual([b.id]);
    expect(b.members.map((m: { value: string }) => m.value)).toEqual([a.id]);
    expect(ops[0].version).toBe(a.meta.version);
  });

  it('a group that references its own bulkId is a cycle that cannot be resolved: that POST is 409, the PUT to it 424 (RFC 7644 §3.7.1)', async () => {
    const res = await bulk([
      { method: 'PUT', path: '/Groups/bulkId:x', data: { schemas: [GROUP], displayName: 'x' } },
      { method: 'POST', path: '/Groups', bulkId: 'x', data: { schemas: [GROUP], displayName: 'bulk-self', members: [{ value: 'bulkId:x' }] } },
    ]);
    expect(res.statusCode).toBe(200); // the bulk itself was processed (RFC 7644 §3.7)
    const [put, post] = res.json().Operations;
    // Created without itself, then completing it would make it its own member, which a group cannot be.
    expect(post).toEqual({
      method: 'POST',
      bulkId: 'x',
      status: '409',
      response: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '409',
        detail: 'Operations[1] references its own bulkId, a circular reference that could not be resolved (RFC 7644 §3.7.1): completing Operations[1] failed: a group cannot be a member of itself',
      },
    });
    expect(post.response.scimType).toBeUndefined();
    expect(put).toMatchObject({ method: 'PUT', status: '424', response: { status: '424', detail: "bulkId 'x' refers to Operations[1], which failed" } });
    // Nothing of the failed attempt remains (the cycle is one transaction).
    const left = (await t.req('GET', '/scim/v2/Groups?filter=' + encodeURIComponent('displayName eq "bulk-self"'))).json();
    expect(left.totalResults).toBe(0);
  });

  it('a reference to a failed operation fails that operation with 424; an undefined bulkId is 400', async () => {
    await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'bulk-dup' });
    const res = await bulk([user('d', 'bulk-dup'), group('gd', 'Depends', ['bulkId:d']), group('gu', 'Undefined', ['bulkId:nobody'])]);
    const ops = res.json().Operations;
    expect(ops[0]).toMatchObject({ status: '409', response: { scimType: 'uniqueness', status: '409' } });
    expect(ops[0].location).toBeUndefined();
    expect(ops[1]).toMatchObject({ status: '424', response: { detail: "bulkId 'd' refers to Operations[0], which failed" } });
    expect(ops[2]).toMatchObject({ status: '400', response: { scimType: 'invalidValue', detail: expect.stringContaining("'nobody'") } });
  });

  it('version on an operation checks the ETag: 412 on mismatch, applied on match', async () => {
    const u = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'bulk-etag' })).json();
    const res = await bulk([
      { method: 'PUT', path: `/Users/${u.id}`, version: 'W/"9"', data: { schemas: [USER], userName: 'bulk-etag', title: 'no' } },
      { method: 'PUT', path: `/Users/${u.id}`, version: u.meta.version, data: { schemas: [USER], userName: 'bulk-etag', title: 'yes' } },
      { method: 'DELETE', path: `/Users/${u.id}`, version: 'W/"1"' },
    ]);
    expect(res.json().Operations.map((o: { status: string }) => o.status)).toEqual(['412', '200', '412']);
    expect((await t.req('GET', `/scim/v2/Users/${u.id}`)).json().title).toBe('yes');
  });

  it('failOnErrors stops after that many errors and returns only what was processed', async () => {
    const res = await bulk([user('f1', 'bulk-dup'), user('f2', 'bulk-dup'), user('f3', 'bulk-never')], { failOnErrors: 2 });
    const ops = res.json().Operations;
    expect(ops.map((o: { bulkId: string }) => o.bulkId)).toEqual(['f1', 'f2']);
    const never = (await t.req('GET', '/scim/v2/Users?filter=' + encodeURIComponent('userName eq "bulk-never"'))).json();
    expect(never.totalResults).toBe(0);
  });

  it('malformed operations fail alone; a malformed request is 400; limits are 413 naming the limit', async () => {
    const mixed = await bulk([{ method: 'GET', path: '/Users' }, { method: 'POST', path: '/Users', data: {} }, user('ok', 'bulk-ok')]);
    expect(mixed.json().Operations.map((o: { status: string }) => o.status)).toEqual(['400', '400', '201']);
    expect((await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK] })).statusCode).toBe(400);
    expect((await t.req('POST', '/scim/v2/Bulk', { schemas: ['urn:x'], Operations: [] })).statusCode).toBe(400);
    const tooMany = await bulk(Array.from({ length: 51 }, (_, i) => user(`m${i}`, `bulk-m${i}`)));
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json()).toMatchObject({ status: '413', detail: 'Bulk request has 51 operations; maxOperations is 50' });
    const big = await bulk([user('big', 'bulk-big', { displayName: 'x'.repeat(70_000) })]);
    expect(big.statusCode).toBe(413);
    expect(big.json().detail).toMatch(/maxPayloadSize of 65536/);
    const spc = (await t.req('GET', '/scim/v2/ServiceProviderConfig')).json();
    expect(spc.bulk).toEqual({ supported: true, maxOperations: 50, maxPayloadSize: 65536 });
  });

  it('needs the scim:bulk scope', async () => {
    const w = await t.tokenWith(['scim:write']);
    expect((await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK], Operations: [] }, { auth: w })).statusCode).toBe(403);
  });
});

describe('Async bulk (RFC 9967 §2.5.1.2)', () => {
  it('answers 202; the worker applies every operation; one asyncresp per operation with txn <Set-Txn>:<index>', async () => {
    const feed = (await t.req('POST', '/ssf/streams', { events_requested: [ASYNCRESP] })).json();
    const u = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'abulk-victim' })).json();
    const res = await bulk([user('a1', 'abulk-1'), group('ag', 'Async Group', ['bulkId:a1']), { method: 'DELETE', path: `/Users/${u.id}` }, user('a2', 'abulk-1')], {}, { prefer: 'respond-async' });
    expect(res.statusCode).toBe(202);
    expect(res.body).toBe('');
    const txn = res.headers['set-txn'] as string;
    let status;
    for (let i = 0; i < 200; i++) {
      status = (await t.req('GET', new URL(res.headers.location as string).pathname)).json();
      if (status.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status.operationsCount).toEqual({ total: 4, success: 3, failed: 1, pending: 0 });
    expect(status.operations.map((o: { index: number; status: string }) => [o.index, o.status])).toEqual([
      [0, '201'],
      [1, '201'],
      [2, '204'],
      [3, '409'],
    ]);
    const { sets } = (await t.req('POST', `/ssf/streams/${feed.stream_id}/poll`, { returnImmediately: true })).json();
    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    const claims = await Promise.all(Object.values(sets as Record<string, string>).map((j) => verifySet(j, { jwks, audience: feed.aud })));
    expect(claims.map((c) => c.txn).sort()).toEqual([0, 1, 2, 3].map((i) => `${txn}:${i}`));
    const byTxn = new Map(claims.map((c) => [c.txn, c.events[ASYNCRESP]]));
    expect(byTxn.get(`${txn}:0`)).toMatchObject({ method: 'POST', bulkId: 'a1', status: '201' });
    expect(byTxn.get(`${txn}:3`)).toMatchObject({ method: 'POST', bulkId: 'a2', status: '409', response: { scimType: 'uniqueness' } });
    // Each operation's asyncresp jti is the one the status resource lists.
    expect(status.operations.every((o: { jti: string }) => typeof o.jti === 'string')).toBe(true);
  });

  it('operations skipped after failOnErrors still get a result and an asyncresp (424)', async () => {
    await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'abulk-taken' });
    const res = await bulk([user('s1', 'abulk-taken'), user('s2', 'abulk-skip-1'), user('s3', 'abulk-skip-2')], { failOnErrors: 1 }, { prefer: 'respond-async' });
    let status;
    for (let i = 0; i < 200; i++) {
      status = (await t.req('GET', new URL(res.headers.location as string).pathname)).json();
      if (status.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status.operations.map((o: { status: string }) => o.status)).toEqual(['409', '424', '424']);
    expect(status.operations[1].response.detail).toMatch(/failOnErrors/);
    expect((await t.req('GET', '/scim/v2/Users?filter=' + encodeURIComponent('userName eq "abulk-skip-1"'))).json().totalResults).toBe(0);
  });

  it('413 and malformed requests are answered synchronously, never queued', async () => {
    const res = await bulk(Array.from({ length: 51 }, (_, i) => user(`q${i}`, `q${i}`)), {}, { prefer: 'respond-async' });
    expect(res.statusCode).toBe(413);
    expect(res.headers['set-txn']).toBeUndefined();
  });
});
