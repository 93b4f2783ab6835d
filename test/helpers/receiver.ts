import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Decide the answer for the n-th request (0-based); default 202 with no body. */
  respond: (n: number, r: Received) => { status: number; headers?: Record<string, string>; body?: string };
  /** Answer this long after the body arrived (to observe requests in flight). */
  delayMs: number;
  /** The most requests that were open at once. */
  maxInFlight: number;
  close(): Promise<void>;
}

/**
 * A real RFC 8935 receiver on loopback, scripted per test (no mocks of the transmitter side).
 * `port` listens on a given port (a receiver that comes up late, after refusing connections).
 */
export async function startReceiver(opts: { port?: number } = {}): Promise<Receiver> {
  const rec: Receiver = {
    url: '',
    received: [],
    respond: () => ({ status: 202 }),
    delayMs: 0,
    maxInFlight: 0,
    close: async () => {},
  };
  let n = 0;
  let open = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const r = { headers: req.headers, body, at: Date.now() };
      rec.received.push(r);
      const a = rec.respond(n++, r);
      rec.maxInFlight = Math.max(rec.maxInFlight, ++open);
      setTimeout(() => {
        open--;
        res.writeHead(a.status, a.headers ?? {});
        res.end(a.body ?? '');
      }, rec.delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
  rec.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  rec.close = () => new Promise((r) => server.close(() => r()));
  return rec;
}

export async function until(cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in time');
}
