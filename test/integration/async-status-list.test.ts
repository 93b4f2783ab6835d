import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeTxn } from '../../src/async/execute.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * GET /AsyncRequests lists the requester's requests with the progress each one's status resource
 * shows (operationsCount, percentComplete), counted for the whole page at once.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({}, { worker: false });
});
afterAll(async () => {
  await t?.close();
});

const admit = async (path: string, body: unknown) => {
  const res = await t.req('POST', path, body, { headers: { prefer: 'respond-async' } });
  expect(res.statusCode, res.body).toBe(202);
  return res.headers['set-txn'] as string;
};

describe('the async request list', () => {
  it('shows each request with the progress of its own status resource, finished or not', async () => {
    const user = await admit('/scim/v2/Users', { schemas: [USER], userName: 'list-single' });
    // Two creates and one that fails (a duplicate userName): 2 succeeded, 1 failed.
    const bulk = await admit('/scim/v2/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'a', data: { schemas: [USER], userName: 'list-a' } },
        { method: 'POST', path: '/Users', bulkId: 'b', data: { schemas: [USER], userName: 'list-b' } },
        { method: 'POST', path: '/Users', bulkId: 'c', data: { schemas: [USER], userName: 'list-a' } },
      ],
    });
    const pending = await admit('/scim/v2/Users', { schemas: [USER], userName: 'list-pending' });
    await executeTxn(t.deps.async, user);
    await executeTxn(t.deps.async, bulk);

    const list = (await t.req('GET', '/scim/v2/AsyncRequests')).json() as { schemas: string[]; totalResults: number; Resources: Record<string, unknown>[] };
    expect(list.schemas).toEqual([LIST]);
    expect(list.Resources.map((r) => r.id)).toEqual([pending, bulk, user]);
    for (const entry of list.Resources) {
      const { operations, ...summary } = (await t.req('GET', `/scim/v2/AsyncRequests/${entry.id as string}`)).json() as Record<string, unknown>;
      expect(operations).toBeDefined();
      expect(entry).toEqual(summary);
    }
    const byId = new Map(list.Resources.map((r) => [r.id, r]));
    expect(byId.get(bulk)).toMatchObject({ status: 'completed', operationsCount: { total: 3, success: 2, failed: 1, pending: 0 }, percentComplete: 100 });
    expect(byId.get(pending)).toMatchObject({ status: 'pending', operationsCount: { total: 1, success: 0, failed: 0, pending: 1 }, percentComplete: 0 });

    const completed = (await t.req('GET', '/scim/v2/AsyncRequests?status=completed&count=1')).json() as { totalResults: number; Resources: { id: string }[] };
    expect(completed.Resources.map((r) => r.id)).toEqual([bulk]);
  });
});
