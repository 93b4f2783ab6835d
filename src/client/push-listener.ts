import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JwksUnavailableError } from './jwks-source.js';
import type { ReceiveOutcome, SetSink } from './received-set.js';

export interface ListenOptions {
  /** 0 picks a free port (see `url`). */
  port: number;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** Only this path takes SETs (default: any path). */
  path?: string | undefined;
  /** When set, requests must carry `Authorization: Bearer <auth>` (the stream's authorization_header). */
  auth?: string | undefined;
  /** Stop after this many SETs were accepted. */
  max?: number | undefined;
  /** Abort to stop listening. */
  signal?: AbortSignal | undefined;
  /** Largest body taken (default 1 MiB). */
  maxBodyBytes?: number | undefined;
  onOutcome?: ((o: ReceiveOutcome) => void) | undefined;
  /** A request that could not be judged (keys unavailable, output failed); answered 503 / 500. */
  onError?: ((e: Error) => void) | undefined;
}

export interface PushListener {
  /** http://host:port/ (plus `path` when given). */
  readonly url: string;
  readonly port: number;
  /** Settles when the listener stopped (close(), the signal, or `max` reached). */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

const MEDIA_TYPE = 'application/secevent+jwt';

/**
 * RFC 8935 push endpoint (node:http). A verified, new SET is written and flushed before the 202
 * (RFC 8935 §2.2, RFC 9967 §5); a repeat gets the same 202 (RFC 8935 §2: a duplicate is not an
 * error); a SET that fails parsing or verification gets 400 `{err, description}` with
 * `Content-Language: en` (RFC 8935 §2.3, codes of §2.4).
 */
export async function listenForSets(receiver: SetSink, opts: ListenOptions): Promise<PushListener> {
  await receiver.start();
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const expected = opts.auth === undefined ? undefined : Buffer.from(`Bearer ${opts.auth}`);
  let accepted = 0;
  let closing: Promise<void> | undefined;

  const server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      opts.onError?.(e);
      if (!res.headersSent) answer(res, e instanceof JwksUnavailableError ? 503 : 500, undefined, e instanceof JwksUnavailableError ? { 'retry-after': '5' } : {});
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (opts.path !== undefined && path !== opts.path) return answer(res, 404);
    if (req.method !== 'POST') return answer(res, 405, undefined, { allow: 'POST' });
    if (expected && !sameBytes(Buffer.from(req.headers.authorization ?? ''), expected)) {
      // Standard HTTP authentication (RFC 8935 §3, RFC 7235), with the RFC 8935 §2.4 code in the body.
      return answer(res, 401, { err: 'authentication_failed', description: 'a valid bearer token is required' }, { 'www-authenticate': 'Bearer' });
    }
    // RFC 8935 §2.1; parameters such as charset are tolerated (some transmitters add one), another type is not.
    const type = (req.headers['content-type'] ?? MEDIA_TYPE).split(';')[0]!.trim().toLowerCase();
    if (type !== MEDIA_TYPE) return answer(res, 400, { err: 'invalid_request', description: `Content-Type must be ${MEDIA_TYPE}` });
    const body = await readBody(req, maxBody);
    if (body === undefined) return answer(res, 413, { err: 'invalid_request', description: `the SET is larger than ${maxBody} bytes` });
    if (closing) return answer(res, 503, undefined, { 'retry-after': '5' });
    const o = await receiver.receive(body, { via: 'push' });
    opts.onOutcome?.(o);
    if (o.outcome === 'rejected') return answer(res, 400, { err: o.err, description: o.description });
    await receiver.flush();
    if (o.outcome === 'accepted' && opts.max !== undefined && ++accepted >= opts.max) res.once('finish', () => void close());
    answer(res, 202);
  }

  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // A keep-alive connection busy right now gets its answer, then no more time.
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    });
    return closing;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  opts.signal?.addEventListener('abort', () => void close(), { once: true });
  if (opts.signal?.aborted) void close();
  const { port, address, family } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address;
  const done = new Promise<void>((resolve) => server.once('close', () => resolve()));
  return { url: `http://${host}:${port}${opts.path ?? '/'}`, port, done, close };
}

function answer(res: ServerResponse, status: number, body?: { err: string; description: string }, headers: Record<string, string> = {}): void {
  if (body) {
    res.writeHead(status, { 'content-type': 'application/json', 'content-language': 'en', ...headers });
    res.end(JSON.stringify(body));
    return;
  }
  res.writeHead(status, headers);
  res.end();
}

/** The body as text, or undefined when it exceeds the limit (the rest is drained so the 413 can be sent). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
