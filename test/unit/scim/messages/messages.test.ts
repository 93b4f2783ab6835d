import { describe, expect, it } from 'vitest';
import { completeList, listResponse, LIST_RESPONSE_URN } from '../../../../src/scim/messages/list-response.js';
import { parsePatchOp, patchOpName, PATCH_OP_URN } from '../../../../src/scim/messages/patch-op.js';
import { parseSearchRequest, SEARCH_REQUEST_URN } from '../../../../src/scim/messages/search-request.js';
import { ScimError } from '../../../../src/core/errors.js';

const scimError = (fn: () => unknown): ScimError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ScimError) return e;
    throw e;
  }
  throw new Error('no error');
};

describe('ListResponse (RFC 7644 §3.4.2)', () => {
  it('a complete list is one page from the first item; members keep the order given', () => {
    expect(JSON.stringify(completeList(['a', 'b']))).toBe(JSON.stringify({ schemas: [LIST_RESPONSE_URN], totalResults: 2, startIndex: 1, itemsPerPage: 2, Resources: ['a', 'b'] }));
    expect(Object.keys(listResponse({ totalResults: 9, itemsPerPage: 0, Resources: [], nextCursor: 'c' }))).toEqual(['schemas', 'totalResults', 'itemsPerPage', 'Resources', 'nextCursor']);
  });
});

describe('SearchRequest (RFC 7644 §3.4.3)', () => {
  it('reads members case-insensitively and splits attribute paths', () => {
    expect(parseSearchRequest({ SCHEMAS: [SEARCH_REQUEST_URN], Filter: 'userName eq "a"', count: 5, attributes: ['userName, emails', ''], cursor: '' })).toEqual({
      filter: 'userName eq "a"',
      sortBy: undefined,
      sortOrder: undefined,
      startIndex: undefined,
      count: 5,
      cursor: '',
      attributes: ['userName', 'emails'],
      excludedAttributes: undefined,
    });
  });

  it('refuses a body that does not fit, with invalidSyntax', () => {
    for (const [body, detail] of [
      [[], 'Invalid SearchRequest: the body must be a JSON object'],
      [{ schemas: ['x'] }, `Invalid SearchRequest: 'schemas' must be ["${SEARCH_REQUEST_URN}"]`],
      [{ schemas: [SEARCH_REQUEST_URN], count: 1.5 }, "Invalid SearchRequest: 'count' must be an integer"],
      [{ schemas: [SEARCH_REQUEST_URN], attributes: 'userName' }, "Invalid SearchRequest: 'attributes' must be an array of attribute paths"],
    ] as const) {
      const e = scimError(() => parseSearchRequest(body));
      expect([e.status, e.scimType, e.detail]).toEqual([400, 'invalidSyntax', detail]);
    }
  });
});

describe('PatchOp (RFC 7644 §3.5.2)', () => {
  it('gives the operations of a well-formed message', () => {
    expect(parsePatchOp({ schemas: [PATCH_OP_URN], Operations: [{ op: 'add', value: {} }] })).toEqual([{ op: 'add', value: {} }]);
  });

  it('refuses a malformed message as a whole, with invalidSyntax', () => {
    for (const body of [null, { schemas: [], Operations: [{ op: 'add' }] }, { schemas: [PATCH_OP_URN], Operations: [] }, { schemas: [PATCH_OP_URN], Operations: [1] }]) {
      expect(scimError(() => parsePatchOp(body)).scimType).toBe('invalidSyntax');
    }
  });

  it('takes op in lower case, or any case with the compatibility switch on', () => {
    expect(patchOpName('replace', false)).toBe('replace');
    expect(patchOpName('Replace', true)).toBe('replace');
    expect(scimError(() => patchOpName('Replace', false)).detail).toBe('"op" must be "replace" in lower case, not "Replace" (RFC 7644 §3.5.2)');
    expect(scimError(() => patchOpName('move', true)).detail).toBe('"op" must be "add", "remove" or "replace"; got "move"');
  });
});
