/**
 * A local RFC 8935 receiver for the push scenario, in its own process so its timings are not
 * delayed by the load generator. It answers 202 at once and records, per SET, the time from the
 * SET being stored to that 202: the SET's `jti` starts with the millisecond it was created in the
 * change's transaction (src/core/ids.ts, ULID layout), the same start the server's own
 * `scimcast_push_delivery_seconds` histogram uses.
 *
 * GET /stats gives counts and latencies; POST /reset starts a new window.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const jtiMs = (jti: string) => [...jti.slice(0, 10)].reduce((ms, ch) => ms * 32 + B32.indexOf(ch), 0);

let lat: number[] = [];
let count = 0;
let firstAt = 0;
let lastAt = 0;
let open = 0;
let maxOpen = 0;
const seen = new Set<string>();
let duplicates = 0;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ count, firstAt, lastAt, maxOpen, duplicates, latencies: lat }));
    return;
  }
  if (req.method === 'POST' && req.url === '/reset') {
    lat = [];
    count = 0;
    firstAt = lastAt = 0;
    maxOpen = 0;
    duplicates = 0;
    seen.clear();
    res.writeHead(204).end();
    return;
  }
  open++;
  maxOpen = Math.max(maxOpen, open);
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const jws = Buffer.concat(chunks).toString();
    const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString()) as { jti: string };
    res.writeHead(202).end();
    const now = Date.now();
    open--;
    if (seen.has(payload.jti)) duplicates++;
    seen.add(payload.jti);
    count++;
    if (!firstAt) firstAt = now;
    lastAt = now;
    lat.push(now - jtiMs(payload.jti));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}/events\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
