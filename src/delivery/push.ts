import { Agent, request } from 'undici';
import type { AppErrorCode } from '../core/errors.js';
import { classifyNetworkError, classifyPushResponse, type PushOutcome } from './classify.js';
import { forbiddenLiteral, makeSafeLookup, type TargetPolicy } from './safe-lookup.js';

/**
 * RFC 8935 §2.1 push of one stored SET: exactly `Content-Type: application/secevent+jwt`
 * (no parameters: i2goSignals refuses them), `Accept: application/json`, the stream's
 * authorization_header, the compact JWS as the body. Keep-alive pools per origin, timeouts,
 * no redirects followed, response bodies read up to a cap.
 */
export interface PushClientOptions extends TargetPolicy {
  timeoutMs: number;
  maxResponseBytes?: number;
  /** Name resolution for the connect-time check; tests inject one, production uses dns.lookup. */
  resolve?: Parameters<typeof makeSafeLookup>[1];
}

export interface PushClient {
  push(target: { url: string; authorization?: string | null | undefined }, jws: string, now: () => Date): Promise<PushOutcome>;
  close(): Promise<void>;
}

/**
 * At most `cap` bytes of a receiver's answer. Reading stops there and the stream is
 * destroyed, which closes the connection: a receiver that streams an endless body cannot hold the
 * worker or fill its memory.
 */
async function readCapped(body: AsyncIterable<unknown> & { destroy(): unknown }, cap: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    chunks.push(b.subarray(0, cap - size));
    size += Math.min(b.length, cap - size);
    if (size >= cap) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function makePushClient(o: PushClientOptions): PushClient {
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    connections: 8,
    connect: { lookup: makeSafeLookup(o, o.resolve) as never, timeout: o.timeoutMs },
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
  });
  const cap = o.maxResponseBytes ?? 64 * 1024;
  // Connect, headers and body each get timeoutMs; the attempt as a whole gets twice that at most.
  const deadlineMs = 2 * o.timeoutMs;
  return {
    async push(target, jws, now) {
      const headers: Record<string, string> = { 'content-type': 'application/secevent+jwt', accept: 'application/json' };
      if (target.authorization) headers.authorization = target.authorization;
      const host = new URL(target.url).hostname;
      if (forbiddenLiteral(host, o)) return classifyNetworkError('ERR_PUSH_FORBIDDEN_ADDRESS' satisfies AppErrorCode);
      try {
        // One deadline for the whole attempt: the per-phase timeouts restart on every byte, so a
        // receiver trickling its answer could otherwise hold the stream's worker for days.
        const signal = AbortSignal.timeout(deadlineMs);
        // undici hands a keep-alive connection back to its pool on the turn after a response
        // ends (setImmediate); a request sent before that opens another connection. Sending the
        // next SET of a stream from the next turn keeps one connection per receiver.
        await new Promise((r) => setImmediate(r));
        const res = await request(target.url, { method: 'POST', headers, body: jws, dispatcher: agent, signal });
        const bodyText = await readCapped(res.body, cap);
        return classifyPushResponse({ status: res.statusCode, headers: res.headers, bodyText }, now());
      } catch (e) {
        // Only the error's code goes on; its message (addresses, ports, the peer's words) stays here.
        const err = e as { name?: string; code?: unknown; cause?: { code?: unknown } };
        if (err.name === 'TimeoutError' || err.name === 'AbortError') return classifyNetworkError('ERR_PUSH_DEADLINE' satisfies AppErrorCode);
        const code = typeof err.code === 'string' ? err.code : typeof err.cause?.code === 'string' ? err.cause.code : undefined;
        return classifyNetworkError(code ?? err.name ?? 'unknown');
      }
    },
    close: () => agent.close(),
  };
}
