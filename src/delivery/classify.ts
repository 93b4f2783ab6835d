/**
 * What a push attempt's outcome means for the SET and the stream (RFC 8935 §2.2 202 Accepted,
 * §2.3 a 400 with `{err, description}`, §2.4 the error codes), with room for receivers that
 * answer otherwise (200, 204, a bare 400). Pure: the caller acts on it.
 */
export type PushOutcome =
  | { kind: 'delivered' }
  /** The receiver refused this SET for good: dead letter, go on with the next. */
  | { kind: 'rejected'; err: string; description: string }
  /** Every following SET would fail too: pause the stream (it keeps its SETs). */
  | { kind: 'pause'; reason: string }
  /** Not RFC 8935 (any other 2xx, 3xx, 400 without a body): retried a few times, then disabled. */
  | { kind: 'misbehaving'; reason: string }
  /**
   * Transient: retry later, at `retryAfterMs` when the receiver said so. `cause` is a transport
   * error's code, for the operator's log only: it is never stored nor shown to the stream's owner.
   */
  | { kind: 'retry'; reason: string; retryAfterMs?: number; cause?: string };

export interface PushResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bodyText: string;
}

const PAUSE_ERRS = new Set(['invalid_key', 'authentication_failed']);

/** Retry-After as delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function retryAfterMs(value: string | string[] | undefined, now: Date): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

function setError(bodyText: string): { err: string; description: string } | undefined {
  try {
    const b = JSON.parse(bodyText) as { err?: unknown; description?: unknown };
    if (typeof b.err === 'string') return { err: b.err, description: typeof b.description === 'string' ? b.description : '' };
  } catch {
    /* not JSON */
  }
  return undefined;
}

export function classifyPushResponse(r: PushResponse, now: Date): PushOutcome {
  const s = r.status;
  if (s === 202) return { kind: 'delivered' };
  if (s >= 200 && s < 400) return { kind: 'misbehaving', reason: `receiver answered ${s}; RFC 8935 §2.2 requires 202 Accepted` };
  if (s === 400) {
    const e = setError(r.bodyText);
    if (!e) return { kind: 'misbehaving', reason: 'receiver answered 400 without an RFC 8935 {err, description} body' };
    if (PAUSE_ERRS.has(e.err)) return { kind: 'pause', reason: `receiver reported ${e.err}: ${e.description}` };
    return { kind: 'rejected', ...e };
  }
  if (s === 401 || s === 403) return { kind: 'pause', reason: `receiver answered ${s}: check the stream's authorization_header` };
  if (s === 429 || s === 503) {
    const after = retryAfterMs(r.headers['retry-after'], now);
    return after === undefined ? { kind: 'retry', reason: `receiver answered ${s}` } : { kind: 'retry', reason: `receiver answered ${s}`, retryAfterMs: after };
  }
  if (s >= 500) return { kind: 'retry', reason: `receiver answered ${s}` };
  // Other 4xx (404, 405, 413, 415 …): the request itself is wrong for this receiver; every SET would fail.
  return { kind: 'pause', reason: `receiver answered ${s}` };
}

/**
 * A transport failure (refused, reset, timeout, DNS, TLS): transient. The reason is stored and
 * shown to the stream's owner (stats, dead letters), so it names the kind of failure in generic
 * words and no more: a refused connection, a reset, a timeout and an answer that is not HTTP all
 * read the same, or an owner could tell open ports from closed ones by pointing a stream at them.
 * The code goes to `cause` (the operator's log).
 */
export function classifyNetworkError(code: string | undefined): PushOutcome {
  return { kind: 'retry', reason: `network error: ${networkFailure(code)}`, ...(code ? { cause: code } : {}) };
}

const DNS_FAILURES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA']);
/** Certificate verification codes (OpenSSL X509_V_ERR names as node reports them, ERR_TLS_CERT_ALTNAME_INVALID). */
const TLS_CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH/;

/** The owner's words for a transport error code. */
export function networkFailure(code: string | undefined): string {
  if (code === 'ERR_PUSH_FORBIDDEN_ADDRESS') return 'the target resolves to an address push may not reach';
  if (code !== undefined && DNS_FAILURES.has(code)) return 'the target host name did not resolve';
  // Only a certificate problem, not any TLS failure: a handshake with something that is not TLS
  // would again tell an open port from a closed one.
  if (code !== undefined && TLS_CERTIFICATE.test(code)) return 'TLS error: the target certificate was not accepted';
  return 'connection failed or timed out';
}
