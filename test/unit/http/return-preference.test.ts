import { describe, expect, it } from 'vitest';
import { writeAnswer } from '../../../src/http/return-preference.js';

describe('writeAnswer: the answer to a synchronous write by Prefer: return= (RFC 7240 §4.2)', () => {
  it('without the preference: the defaults (POST 201, PUT 200, User PATCH 200, Group PATCH 204)', () => {
    expect(writeAnswer('POST', 201, undefined, false)).toEqual({ status: 201, body: true, location: true, applied: undefined });
    expect(writeAnswer('PUT', 200, undefined, false)).toEqual({ status: 200, body: true, location: false, applied: undefined });
    expect(writeAnswer('PATCH', 200, undefined, false)).toEqual({ status: 200, body: true, location: false, applied: undefined });
    expect(writeAnswer('PATCH', 204, undefined, false)).toEqual({ status: 204, body: false, location: false, applied: undefined });
  });

  it('attributes or excludedAttributes on a Group PATCH ask for a body: 200, nothing applied', () => {
    expect(writeAnswer('PATCH', 204, undefined, true)).toEqual({ status: 200, body: true, location: false, applied: undefined });
  });

  it('return=minimal: POST 201 without a body, PUT and PATCH 204; Location always; attributes do not override it', () => {
    expect(writeAnswer('POST', 201, 'minimal', false)).toEqual({ status: 201, body: false, location: true, applied: 'return=minimal' });
    for (const [method, status] of [['PUT', 200], ['PATCH', 200], ['PATCH', 204]] as const) {
      expect(writeAnswer(method, status, 'minimal', true)).toEqual({ status: 204, body: false, location: true, applied: 'return=minimal' });
    }
  });

  it('return=representation: POST 201, PUT and PATCH 200, with the resource', () => {
    expect(writeAnswer('POST', 201, 'representation', false)).toEqual({ status: 201, body: true, location: true, applied: 'return=representation' });
    for (const [method, status] of [['PUT', 200], ['PATCH', 200], ['PATCH', 204]] as const) {
      expect(writeAnswer(method, status, 'representation', false)).toEqual({ status: 200, body: true, location: false, applied: 'return=representation' });
    }
  });
});
