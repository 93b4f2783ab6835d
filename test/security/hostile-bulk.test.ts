import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/receiver.js';
import { BULK_REQUEST, expectNo5xx, expectScimClientError, fcParams, GROUP, PATCH_OP, snapshot, USER } from './support.js';

/**
 * Hostile bulk requests (RFC 7644 §3.7). Generated BulkRequests mix bad methods and
 * paths, bulkIds such as `__proto__`, duplicate bulkIds, random graphs of `bulkId:` references
 * (cycles included), and bad versions. Whatever arrives: no 5xx at the top or in any operation's
 * status; a request whose operations all fail changes nothing. The same holds through the worker
 * (Prefer: respond-async), where an unexpected exception would be retried forever instead.
 */
let t: TestApp;
let existingUser: string;
beforeAll(async () => {
  t = await startTestApp();
  existingUser = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'existing' })).json().id;
  await t.req('POST', '/ssf/streams', { events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] });
});
afterAll(async () => {
  await t?.close();
});

const bulkIds = fc.constantFrom('a', 'b', 'c', 'd', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '', ' ', 'a:b', 'bulkId:a');
const ref = fc.oneof(bulkIds.map((b) => `bulkId:${b}`), fc.constantFrom('bulkId:', 'bulkId:nosuch', 'not-a-uuid'), fc.constant('EXISTING'));
const plausibleUser = fc.record({
  schemas: fc.constant([USER]),
  userName: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }),
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': fc.option(fc.record({ manager: fc.record({ value: ref }) }), { nil: undefined }),
});
const userData = fc.oneof(
  { weight: 3, arbitrary: plausibleUser },
  {
    weight: 1,
    arbitrary: fc.record(
      { schemas: fc.jsonValue({ maxDepth: 1 }), userName: fc.oneof(fc.constant('existing'), fc.jsonValue({ maxDepth: 1 })), emails: fc.jsonValue({ maxDepth: 2 }) },
      { requiredKeys: [] },
    ),
  },
);
const groupData = fc.record({
  schemas: fc.constant([GROUP]),
  displayName: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }),
  members: fc.array(fc.record({ value: ref }), { maxLength: 4 }),
});
const patchData = fc.record({
  schemas: fc.constant([PATCH_OP]),
  Operations: fc.array(
    fc.record({
      op: fc.constantFrom('add', 'remove', 'replace', 'bogus'),
      path: fc.constantFrom('members', 'displayName', 'userName', '__proto__', 'members[value eq "x"]'),
      value: fc.oneof(fc.array(fc.record({ value: ref }), { minLength: 1, maxLength: 3 }), fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});
const target = (type: 'Users' | 'Groups') => fc.oneof(bulkIds.map((b) => `/${type}/bulkId:${b}`), fc.constant(`/${type}/EXISTING`));
/** Operations a real client might send, with hostile details: references, cycles, odd bulkIds. */
const plausible = fc.oneof(
  fc.record({ method: fc.constant('POST'), path: fc.constant('/Users'), bulkId: bulkIds, data: userData }),
  fc.record({ method: fc.constant('POST'), path: fc.constant('/Groups'), bulkId: bulkIds, data: groupData }),
  fc.record({ method: fc.constant('PATCH'), path: target('Groups'), data: patchData }),
  fc.record({ method: fc.constant('PUT'), path: target('Users'), data: userData }),
  fc.record({ method: fc.constant('DELETE'), path: fc.oneof(target('Users'), target('Groups')), version: fc.option(fc.constantFrom('W/"1"', 'W/"999999999999999999999"', '*', ''), { nil: undefined }) }),
);
const path = fc.oneof(
  fc.constantFrom('/Users', '/Groups', '/Users/EXISTING', '/Groups/EXISTING', '/Schemas', '/Bulk', '/../ssf/streams', '/Users/x/y', '/Users/', 'Users', '/users', '/Users?filter=x'),
  bulkIds.map((b) => `/Groups/bulkId:${b}`),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const junk = fc.record(
  {
    method: fc.oneof(fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'post', 'GET', 'HEAD', ''), fc.jsonValue({ maxDepth: 0 })),
    path,
    bulkId: fc.oneof(bulkIds, fc.jsonValue({ maxDepth: 0 })),
    version: fc.oneof(fc.constantFrom('W/"1"', '*', ''), fc.jsonValue({ maxDepth: 0 })),
    data: fc.oneof(userData, groupData, patchData, fc.jsonValue({ maxDepth: 3 })),
  },
  { requiredKeys: ['method', 'path'] },
);
const operation = fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 1, arbitrary: junk });
const bulkBody = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      schemas: fc.constant([BULK_REQUEST]),
      failOnErrors: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.jsonValue({ maxDepth: 0 })) }),
      Operations: fc.array(operation, { minLength: 1, maxLength: 8 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ schemas: fc.jsonValue({ maxDepth: 1 }), Operations: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** Unique userNames per run, so POSTs do not all collide, and the existing id where asked. */
let serial = 0;
function encode(body: unknown): string {
  return JSON.stringify(body).replaceAll('EXISTING', existingUser).replace(/"userName":"([^"]*)"/g, (_m, n: string) => `"userName":"${n}-${serial++}"`);
}

function checkOperations(res: Awaited<ReturnType<TestApp['req']>>, context: string): { anySucceeded: boolean } {
  expectNo5xx(res, context);
  if (res.statusCode !== 200) return { anySucceeded: false };
  const ops = res.json().Operations as { status: unknown; response?: { status?: unknown } }[];
  let anySucceeded = false;
  for (const op of ops) {
    expect(typeof op.status, context).toBe('string');
    const s = Number(op.status);
    expect(s, `${context} → ${JSON.stringify(op)}`).toBeGreaterThanOrEqual(200);
    expect(s, `${context} → ${JSON.stringify(op)}`).toBeLessThan(500);
    if (s < 300) anySucceeded = true;
    else expect(op.response?.status, context).toBe(op.status);
  }
  return { anySucceeded };
}

describe('generated bulk requests', () => {
  it('never a 5xx, in the response or in any operation; all-failed requests change nothing', async () => {
    let baseline = await snapshot(t);
    await fc.assert(
      fc.asyncProperty(bulkBody, async (body) => {
        const text = encode(body);
        const res = await t.req('POST', '/scim/v2/Bulk', text, { headers: { 'content-type': 'application/scim+json' } });
        const { anySucceeded } = checkOperations(res, `Bulk ${text.slice(0, 400)}`);
        const after = await snapshot(t);
        if (!anySucceeded) expect(after, text.slice(0, 400)).toEqual(baseline);
        baseline = after;
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      fcParams(80, 1500),
    );
  });
});

describe('cycles of bulkId references', () => {
  const bulk = (Operations: unknown[]) => t.req('POST', '/scim/v2/Bulk', { schemas: [BULK_REQUEST], Operations });
  const group = (bulkId: string, members: string[]) => ({
    method: 'POST',
    path: '/Groups',
    bulkId,
    data: { schemas: [GROUP], displayName: `cycle-${bulkId}-${serial++}`, members: members.map((m) => ({ value: `bulkId:${m}` })) },
  });

  it('POSTed groups that contain each other in a ring are all created, each holding the next (RFC 7644 §3.7.1)', async () => {
    const n = 50;
    const res = await bulk(Array.from({ length: n }, (_, i) => group(`r${i}`, [`r${(i + 1) % n}`])));
    const ops = res.json().Operations as { status: string; location: string; bulkId: string }[];
    expect(ops.map((o) => o.status)).toEqual(Array(n).fill('201'));
    const ids = new Map(ops.map((o) => [o.bulkId, o.location.split('/').pop()!]));
    const first = (await t.req('GET', `/scim/v2/Groups/${ids.get('r0')}`)).json();
    expect(first.members.map((m: { value: string }) => m.value)).toEqual([ids.get('r1')]);
  });

  it('a group that references itself, and PATCHes that reference each other with no POST, fail without a change', async () => {
    const before = await snapshot(t);
    const self = await bulk([group('self', ['self'])]);
    const patchRing = await bulk([
      { method: 'PATCH', path: '/Groups/bulkId:p2', bulkId: 'p1', data: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: 'bulkId:p2' }] }] } },
      { method: 'PATCH', path: '/Groups/bulkId:p1', bulkId: 'p2', data: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: 'bulkId:p1' }] }] } },
    ]);
    for (const res of [self, patchRing]) {
      expect(res.statusCode).toBe(200);
      for (const op of res.json().Operations as { status: string }[]) expect(Number(op.status)).toBeGreaterThanOrEqual(400);
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it('bulkIds named __proto__, constructor and toString are ordinary names', async () => {
    const res = await bulk([
      { method: 'POST', path: '/Users', bulkId: '__proto__', data: { schemas: [USER], userName: `proto-${serial++}` } },
      group('constructor', ['__proto__', 'toString']),
      { method: 'POST', path: '/Users', bulkId: 'toString', data: { schemas: [USER], userName: `tostring-${serial++}` } },
    ]);
    const ops = res.json().Operations as { status: string; bulkId: string; location?: string }[];
    expect(ops.map((o) => o.status)).toEqual(['201', '201', '201']);
    const groupId = ops.find((o) => o.bulkId === 'constructor')!.location!.split('/').pop();
    const members = (await t.req('GET', `/scim/v2/Groups/${groupId}`)).json().members.map((m: { value: string }) => m.value).sort();
    expect(members).toEqual([ops[0]!.location!.split('/').pop(), ops[2]!.location!.split('/').pop()].sort());
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a duplicate bulkId fails the second POST alone', async () => {
    const res = await bulk([
      { method: 'POST', path: '/Users', bulkId: 'dup', data: { schemas: [USER], userName: `dup-a-${serial++}` } },
      { method: 'POST', path: '/Users', bulkId: 'dup', data: { schemas: [USER], userName: `dup-b-${serial++}` } },
    ]);
    expect(res.json().Operations.map((o: { status: string }) => o.status)).toEqual(['201', '400']);
  });

  it('Operations that is not an array, or a body that is not an object, is a 400 that changes nothing', async () => {
    const before = await snapshot(t);
    for (const body of ['[]', 'null', '"Bulk"', `{"schemas":["${BULK_REQUEST}"],"Operations":{"0":{}}}`, `{"schemas":["${BULK_REQUEST}"],"Operations":[],"failOnErrors":1e400}`]) {
      const res = await t.req('POST', '/scim/v2/Bulk', body, { headers: { 'content-type': 'application/scim+json' } });
      expectScimClientError(res, body);
      expect(res.statusCode).toBe(400);
    }
    expect(await snapshot(t)).toEqual(before);
  });
});

describe('generated bulk requests through the worker (Prefer: respond-async)', () => {
  let w: TestApp;
  beforeAll(async () => {
    w = await startTestApp({}, { worker: true });
    existingUser = (await w.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'existing' })).json().id;
  });
  afterAll(async () => {
    await w?.close();
  });

  it('each accepted request completes; no operation result is a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(bulkBody, async (body) => {
        const text = encode(body);
        const res = await w.req('POST', '/scim/v2/Bulk', text, { headers: { 'content-type': 'application/scim+json', prefer: 'respond-async' } });
        expectNo5xx(res, text.slice(0, 300));
        if (res.statusCode !== 202) return;
        const location = new URL(res.headers.location as string).pathname;
        let doc: { status: string; operations: { status: string }[] } | undefined;
        await until(async () => {
          doc = (await w.req('GET', location)).json();
          return doc!.status === 'completed' || doc!.status === 'failed';
        }, 30_000);
        for (const op of doc!.operations) expect(Number(op.status), `${text.slice(0, 300)} → ${JSON.stringify(op)}`).toBeLessThan(500);
      }),
      fcParams(12, 200),
    );
  });
});
