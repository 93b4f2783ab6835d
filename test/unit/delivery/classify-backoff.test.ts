import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, nextDelayMs, retryDelayMs } from '../../../src/delivery/backoff.js';
import { classifyNetworkError, classifyPushResponse, retryAfterMs } from '../../../src/delivery/classify.js';

/** Every outcome class of an RFC 8935 push (§2.2 success, §2.3 and §2.4 errors), as receivers in the field answer. */
const now = new Date('2026-01-01T00:00:00Z');
const answer = (status: number, body = '', headers: Record<string, string> = {}) => classifyPushResponse({ status, headers, bodyText: body }, now);
const setErr = (err: string) => JSON.stringify({ err, description: `d-${err}` });

describe('classifyPushResponse', () => {
  it('RFC 8935 §2.2: only 202 is delivered; any other 2xx or 3xx is a misbehaving receiver', () => {
    expect(answer(202)).toEqual({ kind: 'delivered' });
    for (const s of [200, 201, 204, 301, 302, 304, 307, 308]) expect(answer(s).kind, String(s)).toBe('misbehaving');
  });

  it('RFC 8935 §2.3, §2.4: 400 {err, description} rejects that SET; invalid_key and authentication_failed pause; a 400 without the body is misbehaving', () => {
    for (const err of ['invalid_request', 'invalid_issuer', 'invalid_audience', 'access_denied', 'some_private_code']) {
      expect(answer(400, setErr(err))).toEqual({ kind: 'rejected', err, description: `d-${err}` });
    }
    for (const err of ['invalid_key', 'authentication_failed']) expect(answer(400, setErr(err))).toMatchObject({ kind: 'pause', reason: expect.stringContaining(err) });
    expect(answer(400, 'not json').kind).toBe('misbehaving');
    expect(answer(400, '{"description":"no err"}').kind).toBe('misbehaving');
  });

  it('401 and 403 pause the stream; other 4xx too (every following SET would fail)', () => {
    for (const s of [401, 403, 404, 405, 413, 415]) expect(answer(s).kind, String(s)).toBe('pause');
  });

  it('429 and 503 honour Retry-After in seconds and as an HTTP-date; other 5xx retry with backoff', () => {
    expect(answer(429, '', { 'retry-after': '7' })).toMatchObject({ kind: 'retry', retryAfterMs: 7000 });
    expect(answer(503, '', { 'retry-after': new Date(now.getTime() + 120_000).toUTCString() })).toMatchObject({ kind: 'retry', retryAfterMs: 120_000 });
    expect(answer(503)).toEqual({ kind: 'retry', reason: 'receiver answered 503' });
    for (const s of [500, 502, 504, 599]) expect(answer(s, '', { 'retry-after': '9' })).toEqual({ kind: 'retry', reason: `receiver answered ${s}` });
    expect(classifyNetworkError('UND_ERR_CONNECT_TIMEOUT')).toMatchObject({ kind: 'retry', cause: 'UND_ERR_CONNECT_TIMEOUT' });
  });

  it('transport failures reach the owner in generic words: refused, reset, timed out and not-HTTP read the same; the code stays in cause', () => {
    const generic = 'network error: connection failed or timed out';
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_SOCKET', 'HPE_INVALID_CONSTANT', 'ERR_PUSH_DEADLINE', 'ERR_SSL_WRONG_VERSION_NUMBER']) {
      expect(classifyNetworkError(code), code).toEqual({ kind: 'retry', reason: generic, cause: code });
    }
    expect(classifyNetworkError(undefined)).toEqual({ kind: 'retry', reason: generic });
    expect(classifyNetworkError('ENOTFOUND')).toMatchObject({ reason: 'network error: the target host name did not resolve' });
    for (const code of ['CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID']) {
      expect(classifyNetworkError(code), code).toMatchObject({ reason: 'network error: TLS error: the target certificate was not accepted' });
    }
    expect(classifyNetworkError('ERR_PUSH_FORBIDDEN_ADDRESS')).toMatchObject({ reason: 'network error: the target resolves to an address push may not reach' });
  });

  it('retryAfterMs: a past date is 0, garbage is ignored', () => {
    expect(retryAfterMs(new Date(now.getTime() - 60_000).toUTCString(), now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs(['3', '9'], now)).toBe(3000);
  });
});

describe('backoff (RFC 8935 §4)', () => {
  const o = (r: number) => ({ baseMs: 1000, capMs: 60_000, random: () => r });

  it('grows exponentially with full jitter and is capped', () => {
    expect(nextDelayMs(0, o(0.999))).toBe(999);
    expect(nextDelayMs(3, o(0.999))).toBe(7992);
    expect(nextDelayMs(40, o(0.999))).toBe(59_940); // capped at 60 s
    expect(nextDelayMs(40, o(0))).toBe(500); // never below half the base: no hot loop
    const spread = new Set(Array.from({ length: 20 }, (_, i) => nextDelayMs(5, o(i / 20))));
    expect(spread.size).toBeGreaterThan(10); // jitter: streams that failed together do not retry together
  });

  it('retryDelayMs: Retry-After wins over the backoff, but "0" or a past date still waits the smallest step, and a bogus huge one is bounded', () => {
    expect(retryDelayMs(5000, 0, o(0.5))).toBe(5000);
    expect(retryDelayMs(120_000, 0, o(0.5))).toBe(120_000); // beyond the cap: the receiver asked
    expect(retryDelayMs(0, 0, o(0.5))).toBe(500);
    expect(retryDelayMs(Number.POSITIVE_INFINITY, 2, o(0.5))).toBe(nextDelayMs(2, o(0.5)));
    expect(retryDelayMs(1e15, 0, o(0.5))).toBe(MAX_RETRY_AFTER_MS);
    expect(retryDelayMs(undefined, 2, o(0.5))).toBe(2000);
  });
});
