import { describe, expect, it } from 'vitest';
import { externalIdFilter, listingPays, lookupChunkSize } from '../../../src/client/bulk/lookup-filter.js';
import { addMembersOp, createOp, idFromLocation, replaceOp } from '../../../src/client/bulk/operations.js';
import { bulkRequestBody, fitMembers, jsonBytes, RequestBudget } from '../../../src/client/bulk/request-size.js';
import { matchBulkResponse, statusResults } from '../../../src/client/bulk/results.js';
import { backoffMs, DEFAULT_RETRY, retryAfterMs } from '../../../src/client/bulk/retry.js';
import { GROUP_URN, USER_URN, type ImportItem } from '../../../src/client/bulk/items.js';

const user: ImportItem = { line: 2, type: 'user', externalId: 'ü1', resource: { schemas: [USER_URN], externalId: 'ü1', userName: 'Zoë' }, members: [] };
const group: ImportItem = { line: 3, type: 'group', externalId: 'g1', resource: { schemas: [GROUP_URN], externalId: 'g1', displayName: 'G' }, members: [] };

describe('request size (RFC 7644 §3.7.4 maxPayloadSize is bytes of the body)', () => {
  it('counts exactly the UTF-8 bytes of the serialized BulkRequest, with and without failOnErrors', () => {
    for (const failOnErrors of [undefined, 7]) {
      const ops = [createOp(user, 'i0', []), createOp(group, 'i1', [{ value: 'bulkId:i0' }]), replaceOp(user, 'a/b', []), addMembersOp('g', [{ value: 'x', type: 'User' }])];
      const budget = new RequestBudget({ maxOperations: 10, maxBytes: 10_000 }, failOnErrors);
      for (const op of ops) budget.add(jsonBytes(op));
      expect(budget.size).toBe(Buffer.byteLength(bulkRequestBody(ops, failOnErrors), 'utf8'));
    }
  });

  it('fits as many members as the room allows, exactly at the boundary', () => {
    const members = Array.from({ length: 20 }, (_, i) => ({ value: `member-${i}` }));
    const build = (ms: readonly { value: string }[]) => addMembersOp('g', ms);
    const whole = jsonBytes(build(members.slice(0, 7)));
    const fit = fitMembers(build, members, whole);
    expect(fit.taken).toBe(7);
    expect(fit.bytes).toBe(whole);
    expect(jsonBytes(fit.op)).toBe(whole);
    expect(fitMembers(build, members, whole - 1).taken).toBe(6);
    expect(fitMembers(build, members, 10).op).toBeUndefined();
  });

  it('knows when the operation count is the limit', () => {
    const b = new RequestBudget({ maxOperations: 1, maxBytes: 10_000 });
    expect(b.fits(10)).toBe(true);
    b.add(10);
    expect(b.fits(1)).toBe(false);
  });
});

describe('operations', () => {
  it('PUT and PATCH address the resource by id; ids come back from locations', () => {
    expect(replaceOp(user, 'a b', []).path).toBe('/Users/a%20b');
    expect(idFromLocation('https://h/scim/v2/Users/a%20b')).toBe('a b');
    expect(idFromLocation('https://h/scim/v2/Groups/x/?q=1')).toBe('x');
    expect(addMembersOp('g', [{ value: 'u' }]).data).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: 'u' }] }] });
  });
});

describe('BulkResponse matching (RFC 7644 §3.7.3)', () => {
  const ops = [createOp(user, 'i0', []), createOp(group, 'i1', []), replaceOp(user, 'u9', []), addMembersOp('g9', [{ value: 'x' }])];

  it('pairs POSTs by bulkId and PUT/PATCH by the id in location, whatever the order', () => {
    const body = {
      Operations: [
        { method: 'PATCH', location: 'https://h/scim/v2/Groups/g9', status: '204' },
        { method: 'POST', bulkId: 'i1', location: 'https://h/scim/v2/Groups/G1', status: '201' },
        { method: 'PUT', location: 'https://h/scim/v2/Users/u9', status: '412', response: { scimType: 'invalidVers', detail: 'etag' } },
        { method: 'POST', bulkId: 'i0', status: '409', response: { status: '409', scimType: 'uniqueness', detail: 'taken' } },
      ],
    };
    const r = matchBulkResponse(ops, body);
    expect(r.map((x) => x?.status)).toEqual([409, 201, 412, 204]);
    expect(r[0]).toMatchObject({ scimType: 'uniqueness', detail: 'taken' });
    expect(r[1]!.id).toBe('G1');
  });

  it('leaves unprocessed operations (failOnErrors reached) without a result', () => {
    const r = matchBulkResponse(ops, { Operations: [{ method: 'POST', bulkId: 'i0', status: '400', response: { detail: 'x' } }] });
    expect(r.map((x) => x?.status)).toEqual([400, undefined, undefined, undefined]);
    expect(matchBulkResponse(ops, 'not json')).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('reads the async status resource by index; pending operations are not results yet', () => {
    const doc = { status: 'running', operationsCount: { total: 3, pending: 1 }, operations: [{ index: 2, status: '201', location: 'https://h/Users/c' }, { index: 0, status: 'pending' }, { index: 1, status: '400', response: { detail: 'bad' } }] };
    const s = statusResults(doc, 3)!;
    expect(s.finished).toBe(false);
    expect(s.results.map((x) => x?.status)).toEqual([undefined, 400, 201]);
    expect(statusResults({ ...doc, status: 'completed' }, 3)!.finished).toBe(true);
    expect(statusResults({ id: 'x' }, 1)).toBeUndefined();
  });
});

describe('lookups and retries', () => {
  it('builds externalId filters with JSON-escaped literals, chunked by terms and length', () => {
    expect(externalIdFilter(['a"b', 'c'])).toBe('externalId eq "a\\"b" or externalId eq "c"');
    expect(lookupChunkSize(Array.from({ length: 500 }, (_, i) => `e${i}`))).toBe(50);
    expect(lookupChunkSize(Array.from({ length: 10 }, () => 'x'.repeat(900)))).toBe(2);
    expect(lookupChunkSize(['y'.repeat(5000)])).toBe(1);
  });

  it('lists the server instead of looking items up only when that returns fewer resources in fewer requests', () => {
    // A rerun of a 20,000-row import on a server holding just those: 100 pages beat 400 lookups.
    expect(listingPays(20_000, 20_000, 200)).toBe(true);
    // 5,700 rows into a directory of 19,000: paging through all 19,000 costs more than 114 lookups.
    expect(listingPays(19_000, 5_700, 200)).toBe(false);
    // A few new rows into a large directory: lookups.
    expect(listingPays(100_000, 100, 200)).toBe(false);
    // Small pages make listing the more expensive way even when the counts match.
    expect(listingPays(1_000, 1_000, 10)).toBe(false);
  });

  it('reads Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3)', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });

  it('backs off exponentially with full jitter, capped', () => {
    expect(backoffMs(1, DEFAULT_RETRY, () => 0.999)).toBe(499);
    expect(backoffMs(3, DEFAULT_RETRY, () => 0.5)).toBe(1000);
    expect(backoffMs(30, DEFAULT_RETRY, () => 0.999)).toBe(29_970);
    expect(backoffMs(4, DEFAULT_RETRY, () => 0)).toBe(0);
  });
});
