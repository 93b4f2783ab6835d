import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { makePushClient } from '../../src/delivery/push.js';
import { startTestApp } from '../helpers/app.js';
import { ERROR_URN } from './support.js';

/**
 * Push safety and rate limiting, the parts a receiver or a client controls:
 * - a push receiver that redirects is not followed (the redirect target never sees the SET), and
 *   the answer counts as a misbehaving receiver (RFC 8935 §2.2 wants 202);
 * - a receiver that answers with an endless body cannot hold the push or fill memory: reading
 *   stops at the cap and the connection is closed;
 * - per-client rate limiting answers 429 with Retry-After and a SCIM error, per token, and the
 *   probes stay exempt.
 * Real loopback servers and the real push client (undici); no mocks.
 */
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/events`;
}

const now = () => new Date();

describe('push safety', () => {
  it('does not follow a redirect: the target named in Location gets nothing, the receiver is misbehaving', async () => {
    let redirectedTo = 0;
    const target = await serve((_q, s) => {
      redirectedTo++;
      s.writeHead(202).end();
    });
    for (const status of [301, 302, 307, 308]) {
      const url = await serve((_q, s) => s.writeHead(status, { location: target }).end());
      const client = makePushClient({ timeoutMs: 2000, allow: [], loopback: true });
      const outcome = await client.push({ url }, 'a.b.c', now);
      await client.close();
      expect(outcome.kind, String(status)).toBe('misbehaving');
    }
    expect(redirectedTo).toBe(0);
  });

  it('reads at most the cap of an endless answer, then closes the connection', async () => {
    let closed = false;
    const url = await serve((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.write('{"err":"invalid_request","description":"');
        const chunk = 'x'.repeat(16 * 1024);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        res.on('close', () => (closed = true));
        pump();
      });
    });
    const client = makePushClient({ timeoutMs: 5000, allow: [], loopback: true, maxResponseBytes: 64 * 1024 });
    const started = Date.now();
    const outcome = await client.push({ url }, 'a.b.c', now);
    await client.close();
    // The capped text is not JSON, so the receiver's 400 is not an RFC 8935 error body.
    expect(outcome.kind).toBe('misbehaving');
    expect(Date.now() - started).toBeLessThan(4000);
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(true);
  });
});

describe('rate limiting (SCIMCAST_RATE_LIMIT)', () => {
  it('answers 429 with Retry-After and a SCIM error once a token has spent its burst; other tokens and the probes go on', async () => {
    const t = await startTestApp({ SCIMCAST_RATE_LIMIT: '0.5', SCIMCAST_RATE_BURST: '3' });
    try {
      const other = await t.tokenWith(['scim:read']);
      const statuses: number[] = [];
      let refused: Awaited<ReturnType<typeof t.req>> | undefined;
      for (let i = 0; i < 5; i++) {
        const res = await t.req('GET', '/scim/v2/Users');
        statuses.push(res.statusCode);
        if (res.statusCode === 429) refused = res;
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused!.json()).toMatchObject({ schemas: [ERROR_URN], status: '429' });
      expect(refused!.json().detail).toMatch(/limit/);
      // A refused request changes nothing and spends nothing of anyone else's bucket.
      expect((await t.req('GET', '/scim/v2/Users', undefined, { auth: other })).statusCode).toBe(200);
      expect((await t.req('GET', '/healthz', undefined, { auth: null })).statusCode).toBe(200);
      for (let i = 0; i < 5; i++) expect((await t.req('GET', '/readyz', undefined, { auth: null })).statusCode).not.toBe(429);
    } finally {
      await t.close();
    }
  });
});
