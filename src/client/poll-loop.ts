import { JwksUnavailableError } from './jwks-source.js';
import type { ReceiveOutcome, SetErrorCode, SetSink } from './received-set.js';

export interface PollOptions {
  /** The stream's RFC 8936 endpoint, e.g. http://127.0.0.1:8080/ssf/streams/<id>/poll. */
  url: string;
  /** Bearer token (scimcast: the stream owner's token). */
  token?: string | undefined;
  /** SETs asked for per request (maxEvents, RFC 8936 §2.2; default 100). */
  maxEvents?: number | undefined;
  /** One request with returnImmediately (RFC 8936 §2.2), then acknowledge and stop. */
  once?: boolean | undefined;
  /** Stop after this many SETs were accepted (duplicates do not count). */
  max?: number | undefined;
  /** Abort to stop: the open long poll is dropped and what was written is acknowledged. */
  signal?: AbortSignal | undefined;
  /** Backoff after a failed request: full jitter from baseMs (500) doubling up to capMs (30 000). */
  backoff?: { baseMs?: number; capMs?: number } | undefined;
  /** Per-request timeout in ms for requests that must not hang (the final acknowledgement; default 15 000). */
  ackTimeoutMs?: number | undefined;
  /** Told about each SET as it is handled (the CLI logs rejections). */
  onOutcome?: ((o: ReceiveOutcome) => void) | undefined;
  /** Told about a failed request and the wait before the next one. */
  onRetry?: ((error: Error, waitMs: number) => void) | undefined;
}

export interface PollSummary {
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Poll requests answered 200. */
  polls: number;
}

/** The transmitter refused the request in a way a retry will not fix (bad token, unknown stream). */
export class PollRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'PollRequestError';
  }
}

class RetryablePollError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RetryablePollError';
  }
}

type SetErrs = Record<string, { err: SetErrorCode; description: string }>;

interface PollBody {
  ack: string[];
  setErrs: SetErrs;
  returnImmediately: boolean;
  maxEvents: number;
}

/**
 * RFC 8936 §2.4 receiver loop. Each request acknowledges what the previous batch wrote (the
 * output is flushed first: RFC 9967 §5, RFC 8936 §2.4), reports rejected SETs in `setErrs` with
 * their RFC 8935 §2.4 codes (only parse and validation problems, RFC 8936 §2) and long-polls
 * for more. Duplicates are acknowledged without being written (RFC 8936 §2.4). Failed requests are
 * retried with backoff and keep their acks; on stop, a last acknowledge-only request (maxEvents 0,
 * returnImmediately: RFC 8936 §2.4.2) settles what was written.
 */
export async function pollSets(receiver: SetSink, opts: PollOptions): Promise<PollSummary> {
  const summary: PollSummary = { accepted: 0, duplicates: 0, rejected: 0, polls: 0 };
  const page = opts.maxEvents ?? 100;
  const baseMs = opts.backoff?.baseMs ?? 500;
  const capMs = opts.backoff?.capMs ?? 30_000;
  let ack: string[] = [];
  let setErrs: SetErrs = {};
  let failures = 0;
  await receiver.start();
  const done = () => opts.signal?.aborted || (opts.max !== undefined && summary.accepted >= opts.max);
  try {
    while (!done()) {
      const want = opts.max === undefined ? page : Math.min(page, opts.max - summary.accepted);
      let sets: Record<string, string>;
      try {
        sets = await request(opts, { ack, setErrs, returnImmediately: opts.once === true, maxEvents: want }, opts.signal);
      } catch (e) {
        if (opts.signal?.aborted) break;
        if (!(e instanceof RetryablePollError)) throw e;
        const wait = e.retryAfterMs ?? Math.random() * Math.min(capMs, baseMs * 2 ** failures++);
        opts.onRetry?.(e, wait);
        await sleep(wait, opts.signal);
        continue;
      }
      // A 200 means the transmitter applied these acks and errors (RFC 8936 §2.4).
      ack = [];
      setErrs = {};
      failures = 0;
      summary.polls++;
      try {
        for (const [jti, jws] of Object.entries(sets)) {
          const o = await receiver.receive(jws, { jti, via: 'poll' });
          opts.onOutcome?.(o);
          if (o.outcome === 'rejected') {
            summary.rejected++;
            setErrs[jti] = { err: o.err, description: o.description };
            continue;
          }
          if (o.outcome === 'accepted') summary.accepted++;
          else summary.duplicates++;
          ack.push(jti);
        }
      } catch (e) {
        // The keys could not be fetched: leave the rest unacknowledged; they come back next poll.
        if (!(e instanceof JwksUnavailableError)) throw e;
        const wait = Math.random() * Math.min(capMs, baseMs * 2 ** failures++);
        opts.onRetry?.(e, wait);
        await receiver.flush();
        await sleep(wait, opts.signal);
        continue;
      }
      await receiver.flush();
      if (opts.once) break;
    }
  } catch (e) {
    // Still settle what was written, but report the failure that stopped the loop.
    await settle(receiver, opts, ack, setErrs).catch(() => {});
    throw e;
  }
  await settle(receiver, opts, ack, setErrs);
  return summary;
}

/** The last acknowledge-only request (RFC 8936 §2.4.2), after the output is flushed. */
async function settle(receiver: SetSink, opts: PollOptions, ack: string[], setErrs: SetErrs): Promise<void> {
  await receiver.flush();
  if (ack.length === 0 && Object.keys(setErrs).length === 0) return;
  await request(opts, { ack, setErrs, returnImmediately: true, maxEvents: 0 }, AbortSignal.timeout(opts.ackTimeoutMs ?? 15_000));
}

async function request(opts: PollOptions, body: PollBody, signal: AbortSignal | undefined): Promise<Record<string, string>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  // RFC 8936 §2.6: a request with setErrs says the language of their descriptions.
  if (Object.keys(body.setErrs).length > 0) headers['content-language'] = 'en';
  let res: Response;
  try {
    res = await fetch(opts.url, { method: 'POST', headers, body: JSON.stringify(body), signal: signal ?? null });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new RetryablePollError(`poll ${opts.url}: ${(e as Error).message}`);
  }
  const text = await res.text().catch(() => '');
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    throw new RetryablePollError(`poll ${opts.url}: HTTP ${res.status}`, retryAfterMs(res.headers.get('retry-after')));
  }
  if (res.status !== 200) throw new PollRequestError(res.status, `poll ${opts.url}: HTTP ${res.status}${detailOf(text)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RetryablePollError(`poll ${opts.url}: the response is not JSON`);
  }
  // RFC 8936 §2.5: `sets` maps jti → compact SET; `moreAvailable` may be absent (it is optional).
  const sets = (parsed as { sets?: unknown } | null)?.sets ?? {};
  if (sets === null || typeof sets !== 'object' || Array.isArray(sets) || !Object.values(sets).every((v) => typeof v === 'string')) {
    throw new RetryablePollError(`poll ${opts.url}: "sets" is not an object of jti → SET`);
  }
  return sets as Record<string, string>;
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(v: string | null): number | undefined {
  if (!v) return undefined;
  const s = Number(v);
  const ms = Number.isFinite(s) ? s * 1000 : Date.parse(v) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), 300_000) : undefined;
}

/** The SCIM error detail of a refusal, when the body has one. */
function detailOf(text: string): string {
  try {
    const d = (JSON.parse(text) as { detail?: unknown }).detail;
    return typeof d === 'string' ? `: ${d}` : '';
  } catch {
    return '';
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
