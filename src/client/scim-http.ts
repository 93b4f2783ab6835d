import { AppError } from '../core/errors.js';
import { backoffMs, DEFAULT_RETRY, isThrottle, isTransient, retryAfterMs, type RetryPolicy } from './bulk/retry.js';

/** An HTTP answer with its body read (JSON when it parses). */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  readonly text: string;
}

/** The request got no answer (connection refused or reset, timeout): its outcome is unknown. */
export class NoAnswerError extends Error {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'NoAnswerError';
  }
}

export interface ScimHttpOptions {
  /** SCIM base, e.g. http://127.0.0.1:8080/scim/v2 (no trailing slash). */
  readonly baseUrl: string;
  readonly token?: string | undefined;
  /** Per request, from sending to the last byte of the answer. */
  readonly timeoutMs?: number | undefined;
  readonly retry?: RetryPolicy | undefined;
  /** Node's global fetch unless given (tests, proxies). */
  readonly fetch?: typeof fetch | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface HttpStats {
  requests: number;
  retries: number;
  /** Time spent waiting because a server said Retry-After. */
  throttledMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A small SCIM HTTP client over the global fetch (undici stays in src/delivery/). It knows the
 * base URL and the bearer token, and sends the token only to the base URL's origin: a Location
 * on another origin is refused, so a server cannot redirect credentials elsewhere (RFC 6750 §5.3).
 *
 * Throttling is shared: a 429 or 503 with Retry-After holds every request of this client until
 * then (RFC 6585 §4 asks the client to slow down, not one connection), and consecutive transient
 * failures pause the whole pipeline with growing, jittered backoff.
 */
export class ScimHttp {
  readonly baseUrl: string;
  readonly stats: HttpStats = { requests: 0, retries: 0, throttledMs: 0 };
  readonly retry: RetryPolicy;
  private readonly origin: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly doFetch: typeof fetch;
  private readonly signal: AbortSignal | undefined;
  private notBefore = 0;
  private consecutiveFailures = 0;

  constructor(opts: ScimHttpOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.baseUrl).origin;
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 300_000;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.doFetch = opts.fetch ?? globalThis.fetch;
    this.signal = opts.signal;
  }

  /** A path under the base (`/Users`) or an absolute URL on the base's origin. */
  url(pathOrUrl: string): string {
    if (!/^https?:\/\//i.test(pathOrUrl)) return `${this.baseUrl}${pathOrUrl.startsWith('/') ? '' : '/'}${pathOrUrl}`;
    const u = new URL(pathOrUrl);
    if (u.origin !== this.origin) throw new AppError('ERR_SCIM_CLIENT', `not sending the token to ${u.origin}: the SCIM base is on ${this.origin}`);
    return u.toString();
  }

  /** Hold every request until `ms` from now (Retry-After); the longest hold wins. */
  holdFor(ms: number, throttled: boolean): void {
    const until = Date.now() + ms;
    if (until > this.notBefore) {
      if (throttled) this.stats.throttledMs += until - Math.max(this.notBefore, Date.now());
      this.notBefore = until;
    }
  }

  private async gate(): Promise<void> {
    for (let wait = this.notBefore - Date.now(); wait > 0; wait = this.notBefore - Date.now()) await sleep(wait);
  }

  /** One attempt, after any hold. Throws NoAnswerError when no HTTP answer came. */
  async once(method: string, pathOrUrl: string, opts: { body?: string; headers?: Record<string, string>; retry?: boolean } = {}): Promise<HttpAnswer> {
    const url = this.url(pathOrUrl);
    await this.gate();
    this.stats.requests++;
    if (opts.retry) this.stats.retries++;
    const headers: Record<string, string> = { accept: 'application/scim+json, application/json', ...(opts.headers ?? {}) };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (opts.body !== undefined) headers['content-type'] ??= 'application/scim+json';
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = this.signal ? AbortSignal.any([timeout, this.signal]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await this.doFetch(url, { method, headers, body: opts.body, signal, redirect: 'manual' });
      text = await res.text();
    } catch (e) {
      this.failed();
      const why = e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : describe(e);
      throw new NoAnswerError(`${method} ${url}: ${why}`, { cause: e });
    }
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    const answer = { status: res.status, headers: res.headers, body, text };
    this.observe(answer);
    return answer;
  }

  /** Note throttling and failures so that the next requests wait. */
  private observe(a: HttpAnswer): void {
    if (isThrottle(a.status)) {
      const after = retryAfterMs(a.headers.get('retry-after'), Date.now());
      this.consecutiveFailures++;
      this.holdFor(Math.min(after ?? backoffMs(this.consecutiveFailures, this.retry), this.retry.maxRetryAfterMs), true);
    } else if (isTransient(a.status)) {
      this.failed();
    } else {
      this.consecutiveFailures = 0;
    }
  }

  private failed(): void {
    this.consecutiveFailures++;
    this.holdFor(backoffMs(this.consecutiveFailures, this.retry), false);
  }

  /**
   * A request that is safe to repeat (GET, RFC 9110 §9.2.2): retried on throttling, transient
   * statuses and no answer, up to the policy's attempts. The last answer (or error) is returned.
   */
  async idempotent(method: string, pathOrUrl: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
    for (let attempt = 1; ; attempt++) {
      try {
        const a = await this.once(method, pathOrUrl, { ...opts, retry: attempt > 1 });
        if (!isTransient(a.status) || attempt >= this.retry.maxAttempts) return a;
      } catch (e) {
        if (!(e instanceof NoAnswerError) || attempt >= this.retry.maxAttempts || this.signal?.aborted) throw e;
      }
    }
  }

  get(pathOrUrl: string, headers?: Record<string, string>): Promise<HttpAnswer> {
    return this.idempotent('GET', pathOrUrl, headers ? { headers } : {});
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : undefined;
  return code ? `${e.message} (${code})` : e.message;
}

/** The detail of a SCIM error body (RFC 7644 §3.12), or the status line when there is none. */
export function errorDetail(a: HttpAnswer): { scimType?: string | undefined; detail: string } {
  const b = a.body as { detail?: unknown; scimType?: unknown } | undefined;
  const detail = typeof b?.detail === 'string' ? b.detail : a.text ? a.text.slice(0, 200) : `HTTP ${a.status}`;
  return { scimType: typeof b?.scimType === 'string' ? b.scimType : undefined, detail };
}
