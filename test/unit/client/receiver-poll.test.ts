import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PollRequestError } from '../../../src/client/poll-loop.js';
import { SetReceiver, type ReceivedSet } from '../../../src/client/set-receiver.js';
import { AUD, claims, ISS, makeKey, sign, startJwksServer, tamper, type JwksServer, type TestKey } from './receiver-fixtures.js';

/**
 * The RFC 8936 poll loop of `scimcast receive --poll` against a scripted transmitter on loopback:
 * what it acknowledges and reports in setErrs (RFC 8936 §2.2, §2.6), when it retries with
 * backoff, when it gives up, and that stopping acknowledges what was written (RFC 8936 §2.4).
 * The full round trip against a real scimcast is in test/integration/cli-receive.test.ts.
 */
interface Req {
  headers: Record<string, string | string[] | undefined>;
  body: { ack?: string[]; setErrs?: Record<string, { err: string; description: string }>; maxEvents?: number; returnImmediately?: boolean };
}
interface Transmitter {
  url: string;
  requests: Req[];
  /** Answer the n-th request; default: the queued SETs not yet acknowledged, or a held long poll. */
  script: (n: number, r: Req) => { status: number; body?: unknown; headers?: Record<string, string> } | undefined;
  pending: Map<string, string>;
  /** How long a long poll is held when nothing is pending. */
  holdMs: number;
  close(): Promise<void>;
}

async function startTransmitter(): Promise<Transmitter> {
  const t: Transmitter = { url: '', requests: [], script: () => undefined, pending: new Map(), holdMs: 300, close: async () => {} };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const r: Req = { headers: req.headers, body: JSON.parse(raw || '{}') };
      const n = t.requests.push(r) - 1;
      for (const j of [...(r.body.ack ?? []), ...Object.keys(r.body.setErrs ?? {})]) t.pending.delete(j);
      const scripted = t.script(n, r);
      const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(body === undefined ? '' : JSON.stringify(body));
      };
      if (scripted) return send(scripted.status, scripted.body, scripted.headers);
      const sets = Object.fromEntries([...t.pending].slice(0, r.body.maxEvents ?? Infinity));
      if (r.body.maxEvents === 0 || Object.keys(sets).length > 0 || r.body.returnImmediately) return send(200, { sets: r.body.maxEvents === 0 ? {} : sets });
      const timer = setTimeout(() => send(200, { sets: {} }), t.holdMs);
      res.on('close', () => clearTimeout(timer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/poll`;
  t.close = () => new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  return t;
}

let key: TestKey;
let jwks: JwksServer;
let tx: Transmitter;
beforeAll(async () => {
  key = await makeKey('k1');
  jwks = await startJwksServer([key]);
});
afterAll(async () => {
  await jwks?.close();
});

async function queue(n: number) {
  const jtis: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = claims();
    tx.pending.set(c.jti as string, await sign(key, c));
    jtis.push(c.jti as string);
  }
  return jtis;
}

async function until(cond: () => boolean) {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(cond()).toBe(true);
}

function receiver(written: ReceivedSet[] = []) {
  return new SetReceiver({ jwksUrl: jwks.url, issuer: ISS, audience: AUD, onSet: (s) => void written.push(s) });
}

describe('poll loop', () => {
  beforeAll(async () => {
    tx = await startTransmitter();
  });
  afterAll(() => tx.close());

  it('--once: one returnImmediately request, then an acknowledge-only request for what it wrote', async () => {
    tx.requests.length = 0;
    const jtis = await queue(3);
    const written: ReceivedSet[] = [];
    const s = await receiver(written).poll({ url: tx.url, token: 'tok', once: true, maxEvents: 50 });
    expect(s).toEqual({ accepted: 3, duplicates: 0, rejected: 0, polls: 1 });
    expect(written.map((w) => w.jti)).toEqual(jtis);
    expect(tx.requests.map((r) => r.body)).toEqual([
      { ack: [], setErrs: {}, returnImmediately: true, maxEvents: 50 },
      { ack: jtis, setErrs: {}, returnImmediately: true, maxEvents: 0 },
    ]);
    expect(tx.requests[0]!.headers.authorization).toBe('Bearer tok');
    expect(tx.pending.size).toBe(0);
  });

  it('a tampered SET goes to setErrs with Content-Language, the good one is acknowledged with the next poll', async () => {
    tx.requests.length = 0;
    const [good, bad] = await queue(2);
    tx.pending.set(bad!, tamper(tx.pending.get(bad!)!));
    const s = await receiver().poll({ url: tx.url, once: true });
    expect(s).toMatchObject({ accepted: 1, rejected: 1 });
    const last = tx.requests.at(-1)!;
    expect(last.body.ack).toEqual([good]);
    expect(last.body.setErrs).toEqual({ [bad!]: { err: 'invalid_request', description: expect.stringMatching(/signature/) } });
    expect(last.headers['content-language']).toBe('en');
    expect(tx.requests[0]!.headers['content-language']).toBeUndefined();
  });

  it('retries 503 (after Retry-After) and connection trouble with backoff, keeping its acks', async () => {
    tx.requests.length = 0;
    const [first] = await queue(1);
    const retries: string[] = [];
    tx.script = (n) => (n === 1 ? { status: 503, headers: { 'retry-after': '0' } } : n === 2 ? { status: 500 } : undefined);
    try {
      const done = receiver().poll({ url: tx.url, max: 2, backoff: { baseMs: 5, capMs: 20 }, onRetry: (e) => void retries.push(e.message) });
      await new Promise((r) => setTimeout(r, 200));
      const [second] = await queue(1);
      expect(await done).toMatchObject({ accepted: 2 });
      expect(retries).toEqual([expect.stringMatching(/HTTP 503/), expect.stringMatching(/HTTP 500/)]);
      // The acks of the failed requests were sent again until one was answered 200.
      expect(tx.requests[1]!.body.ack).toEqual([first]);
      expect(tx.requests[2]!.body.ack).toEqual([first]);
      expect(tx.requests[3]!.body.ack).toEqual([first]);
      expect(tx.requests.at(-1)!.body.ack).toEqual([second]);
    } finally {
      tx.script = () => undefined;
    }
  });

  it('gives up on 401 without retrying (a token fix is needed, not patience)', async () => {
    tx.requests.length = 0;
    tx.script = () => ({ status: 401, body: { detail: 'bad token' } });
    try {
      const err = await receiver().poll({ url: tx.url, once: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PollRequestError);
      expect((err as PollRequestError).status).toBe(401);
      expect((err as Error).message).toMatch(/bad token/);
      expect(tx.requests).toHaveLength(1);
    } finally {
      tx.script = () => undefined;
    }
  });

  it('acknowledges a batch with the next long poll; stopping during it returns at once', async () => {
    tx.requests.length = 0;
    const jtis = await queue(2);
    const stop = new AbortController();
    const written: ReceivedSet[] = [];
    tx.holdMs = 60_000;
    const done = receiver(written).poll({ url: tx.url, signal: stop.signal });
    await until(() => tx.requests.length === 2);
    stop.abort(); // the held poll would last 60 s: returning at all shows it was dropped
    const s = await done;
    expect(s.accepted).toBe(2);
    expect(written.map((w) => w.jti)).toEqual(jtis);
    expect(tx.pending.size).toBe(0);
    expect(tx.requests[1]!.body).toEqual({ ack: jtis, setErrs: {}, returnImmediately: false, maxEvents: 100 });
    tx.holdMs = 300;
  });

  it('a SET sent again before its ack is acknowledged again but written once (RFC 8936 §2.4)', async () => {
    tx.requests.length = 0;
    const [jti] = await queue(1);
    const jws = tx.pending.get(jti!)!;
    tx.script = (n) => (n <= 1 ? { status: 200, body: { sets: { [jti!]: jws } } } : undefined);
    try {
      const written: ReceivedSet[] = [];
      const s = await receiver(written).poll({ url: tx.url, max: 2, signal: AbortSignal.timeout(1500) });
      expect(s).toMatchObject({ accepted: 1, duplicates: 1 });
      expect(written).toHaveLength(1);
      expect(tx.requests[1]!.body.ack).toEqual([jti]);
      expect(tx.requests[2]!.body.ack).toEqual([jti]);
    } finally {
      tx.script = () => undefined;
    }
  });
});
