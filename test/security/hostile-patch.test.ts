import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { expectNo5xx, expectScimClientError, fcParams, GROUP, PATCH_OP, rawRequest, snapshot, USER } from './support.js';

/**
 * Hostile PATCH documents (RFC 7644 §3.5.2). Generated PatchOps — wrong shapes,
 * unknown ops, damaged paths, prototype-pollution keys, deep nesting, huge arrays, numbers beyond
 * range, invalid UTF-8 — are never a 5xx; a refused PATCH is a SCIM 4xx that changed nothing (no
 * resource, membership, SET or job); and Object.prototype is never touched.
 */
let t: TestApp;
let userId: string;
let groupId: string;
beforeAll(async () => {
  t = await startTestApp();
  const u = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'target', emails: [{ value: 't@example.com', type: 'work' }] })).json();
  userId = u.id;
  const g = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Targets', members: [{ value: userId }] })).json();
  groupId = g.id;
  // A stream, so that a PATCH that wrongly went through would leave a SET behind.
  await t.req('POST', '/ssf/streams', { events_requested: ['urn:ietf:params:scim:event:prov:patch:full'] });
});
afterAll(async () => {
  await t?.close();
});

/** Marker replaced in the serialized body by text JSON.stringify cannot produce. */
const MARK = '\u0001RAW\u0001';
const rawTokens = fc.constantFrom('1e400', '-1e400', '1' + '0'.repeat(400), '"\\ud800"', '"a\\u0000b"', '"\\udc00x"', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}');
const protoObject = fc.constantFrom(
  JSON.parse('{"__proto__":{"polluted":true}}') as unknown,
  JSON.parse('{"constructor":{"prototype":{"polluted":true}}}') as unknown,
  JSON.parse('{"prototype":{"polluted":true}}') as unknown,
  JSON.parse('{"name":{"__proto__":{"polluted":true}}}') as unknown,
);
const deep = fc.integer({ min: 60, max: 3000 }).map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown);
const hugeArray = fc.integer({ min: 1000, max: 20000 }).map((n) => Array.from({ length: n }, (_, i) => ({ value: `m${i}@example.com` })));

const op = fc.oneof(fc.constantFrom('add', 'replace', 'remove', 'Add', 'REPLACE', 'Remove'), fc.constantFrom('delete', 'move', 'copy', 'test', '', 'add ', '__proto__'), fc.jsonValue({ maxDepth: 1 }));
const path = fc.oneof(
  fc.constantFrom(
    'title', 'name.givenName', 'emails', 'emails[type eq "work"].value', 'emails[type eq "work"]', 'emails[value co "@"].primary', 'members',
    'members[value eq "nope"]', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    'id', 'meta', 'meta.version', 'groups', 'schemas', 'userName', 'displayName', 'active', 'password',
  ),
  fc.constantFrom(
    '__proto__', '__proto__.polluted', 'constructor.prototype.polluted', 'name.__proto__', 'emails[type eq "work"].__proto__', 'emails[', 'emails]',
    'emails[type eq "work"', 'emails[type eq "work"]]', 'emails[type eq "work"][value pr]', 'name.givenName.x', 'a.b.c', '', ' ', '.', 'emails..value',
    `emails[${'not ('.repeat(50)}type pr${')'.repeat(50)}]`, `emails[${Array.from({ length: 250 }, () => 'type pr').join(' or ')}]`, 'x'.repeat(5000),
  ),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.jsonValue({ maxDepth: 1 }),
);
const value = fc.oneof(fc.jsonValue({ maxDepth: 4 }), protoObject, deep, hugeArray, fc.constant(MARK), fc.constant(undefined));
const operation = fc.record({ op, path, value }, { requiredKeys: [] });
const patchBody = fc.oneof(
  fc.record({ schemas: fc.constant([PATCH_OP]), Operations: fc.array(operation, { minLength: 1, maxLength: 4 }) }),
  fc.record({ schemas: fc.oneof(fc.constant([PATCH_OP]), fc.jsonValue({ maxDepth: 1 })), Operations: fc.oneof(fc.array(operation, { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Serialize, then splice in raw number/escape text and, sometimes, bytes that are not UTF-8. */
const encoded = fc.tuple(patchBody, rawTokens, fc.option(fc.nat(), { nil: undefined }), fc.constantFrom(Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]))).map(
  ([body, raw, badAt, bad]) => {
    const text = (JSON.stringify(body) ?? 'null').split(JSON.stringify(MARK)).join(raw);
    const bytes = Buffer.from(text, 'utf8');
    if (badAt === undefined) return bytes;
    const at = badAt % (bytes.length + 1);
    return Buffer.concat([bytes.subarray(0, at), bad, bytes.subarray(at)]);
  },
);
const ifMatch = fc.option(fc.oneof(fc.constantFrom('*', 'W/"1"', 'W/"99999999999999999999"', '"', 'W/', ''), fc.string({ unit: 'grapheme-ascii', maxLength: 20 })), { nil: undefined });

function prototypeIsClean(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
}

describe('generated PATCH documents', () => {
  it('never a 5xx; a refused PATCH changes nothing', async () => {
    let baseline = await snapshot(t);
    await fc.assert(
      fc.asyncProperty(encoded, fc.constantFrom('Users', 'Groups'), ifMatch, async (body, type, etag) => {
        const id = type === 'Users' ? userId : groupId;
        const res = await rawRequest(t, 'PATCH', `/scim/v2/${type}/${id}`, body, etag === undefined ? {} : { 'if-match': etag });
        const context = `PATCH ${type} ${body.toString('utf8').slice(0, 300)}`;
        expectNo5xx(res, context);
        prototypeIsClean();
        const after = await snapshot(t);
        if (res.statusCode >= 400) expect(after, context).toEqual(baseline);
        baseline = after;
      }),
      fcParams(120, 2500),
    );
  });
});

describe('named hostile PATCH documents', () => {
  const patch = (ops: unknown[]) => JSON.stringify({ schemas: [PATCH_OP], Operations: ops });
  const cases: Array<[string, string, number, RegExp]> = [
    ['__proto__ as a member name', `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"add","value":{"__proto__":{"polluted":1}}}]}`, 400, /__proto__/],
    ['constructor.prototype as a path', patch([{ op: 'add', path: 'constructor.prototype.polluted', value: 1 }]), 400, /Operations\[0\]/],
    ['nesting beyond SCIMCAST_JSON_MAX_DEPTH', patch([{ op: 'add', path: 'title', value: JSON.parse('['.repeat(80) + ']'.repeat(80)) }]), 400, /depth of 64/],
    ['number beyond double range', `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"active","value":1e400}]}`, 400, /active/],
    ['unpaired surrogate', `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"title","value":"\\ud800"}]}`, 400, /surrogate/],
    ['U+0000', `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"title","value":"a\\u0000"}]}`, 400, /U\+0000/],
    ['unknown op', patch([{ op: 'move', path: 'title', value: 'x' }]), 400, /op/],
    ['readOnly target', patch([{ op: 'replace', path: 'id', value: 'x' }]), 400, /Operations\[0\]/],
    ['filter matching nothing', patch([{ op: 'remove', path: 'emails[type eq "fax"]' }]), 400, /Operations\[0\]/],
    ['second of two operations fails: the first is not applied', patch([{ op: 'replace', path: 'title', value: 'ok' }, { op: 'replace', path: 'nosuch', value: 1 }]), 400, /Operations\[1\]/],
  ];
  it.each(cases)('%s', async (_name, body, status, detail) => {
    const before = await snapshot(t);
    const res = await rawRequest(t, 'PATCH', `/scim/v2/Users/${userId}`, body);
    expectScimClientError(res, body.slice(0, 100));
    expect(res.statusCode).toBe(status);
    expect(res.json().detail).toMatch(detail);
    expect(await snapshot(t)).toEqual(before);
    prototypeIsClean();
  });

  it('bytes that are not UTF-8 are 400 invalidSyntax, not stored as U+FFFD', async () => {
    const before = await snapshot(t);
    const body = Buffer.concat([Buffer.from(`{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"title","value":"a`), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]);
    const res = await rawRequest(t, 'PATCH', `/scim/v2/Users/${userId}`, body);
    expectScimClientError(res, 'invalid utf-8');
    expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
    expect(res.json().detail).toMatch(/UTF-8/);
    expect(await snapshot(t)).toEqual(before);
  });
});
