/**
 * A local RFC 8935 receiver for the push scenarios, in its own process so its timings are not
 * delayed by the load generator. It answers every POST with 202 at once (any path, so several
 * streams can point at it with their own paths) and records, per SET, the wall-clock millisecond
 * at which it answered.
 *
 * It reads only what any SET carries: `jti` and `sub_id`. It does not decode times out of the
 * `jti` (the form of a `jti` is the server's business and may change); the latency start is
 * recorded by the client that made the change (bench/scenarios/push-latency.ts), on the same
 * machine clock, and joined on the subject's resource id.
 *
 * GET /stats                    counts, first/last answer times, in-flight peak, connections used, duplicates
 * GET /stats?times=1            … plus `times`: resource id → when the first SET about it was answered
 * GET /stats?order=1            … plus `order`: every distinct `jti`, in the order answered
 * POST /reset                   starts a new window
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

interface SetPayload {
  jti: string;
  sub_id?: { format?: string; uri?: string; id?: string };
}

let count = 0;
/** SETs about a SCIM resource (sub_id format `scim`): the changes a scenario made. */
let resourceSets = 0;
let firstAt = 0;
let lastAt = 0;
let lastResourceAt = 0;
let open = 0;
let maxOpen = 0;
let duplicates = 0;
let order: string[] = [];
const seen = new Set<string>();
/** Connections that carried SETs: how many the sender kept busy at once, give or take idle ones. */
const sockets = new Set<Socket>();
const times = new Map<string, number>();

/** The resource id a SCIM-format sub_id names (RFC 9967 §2.1: `id` when known, else the last segment of `uri`). */
function resourceId(sub: SetPayload['sub_id']): string | undefined {
  if (sub?.format !== 'scim') return undefined;
  return sub.id ?? sub.uri?.split('/').pop();
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/stats')) {
    const q = new URL(req.url, 'http://x').searchParams;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        count,
        resourceSets,
        firstAt,
        lastAt,
        lastResourceAt,
        maxOpen,
        sockets: sockets.size,
        duplicates,
        ...(q.has('times') ? { times: Object.fromEntries(times) } : {}),
        ...(q.has('order') ? { order } : {}),
      }),
    );
    return;
  }
  if (req.method === 'POST' && req.url === '/reset') {
    count = resourceSets = 0;
    firstAt = lastAt = lastResourceAt = 0;
    maxOpen = 0;
    duplicates = 0;
    order = [];
    seen.clear();
    sockets.clear();
    times.clear();
    res.writeHead(204).end();
    return;
  }
  sockets.add(req.socket);
  open++;
  maxOpen = Math.max(maxOpen, open);
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const jws = Buffer.concat(chunks).toString();
    const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString()) as SetPayload;
    res.writeHead(202).end();
    const now = Date.now();
    open--;
    if (seen.has(payload.jti)) {
      duplicates++;
      return;
    }
    seen.add(payload.jti);
    order.push(payload.jti);
    count++;
    if (!firstAt) firstAt = now;
    lastAt = now;
    const id = resourceId(payload.sub_id);
    if (id !== undefined) {
      resourceSets++;
      lastResourceAt = now;
      if (!times.has(id)) times.set(id, now);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}/events\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
