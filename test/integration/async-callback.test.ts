import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackFeedId } from '../../src/core/ids.js';
import { verifySet } from '../../src/events/verify.js';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { spawnScimcast } from '../helpers/procs.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';

/**
 * Per-request callbacks (Prefer: respond-async, callback="<url>", a scimcast extension): a real
 * server and worker, loopback receivers, SETs verified with the server's JWKS.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const ASYNCRESP = 'urn:ietf:params:scim:event:misc:asyncresp';
const MAX_ATTEMPTS = 3;

let t: TestApp;
const receivers: Receiver[] = [];
/** The request log (at trace) and this process's stderr (the worker's and push delivery's lines). */
const logLines: string[] = [];
let restoreStderr = () => {};
let stream: { rec: Receiver; id: string; aud: string };

beforeAll(async () => {
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    logLines.push(String(chunk));
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  restoreStderr = () => void (process.stderr.write = write);
  t = await startTestApp(
    { LOG_LEVEL: 'trace', SCIMCAST_PUSH_BACKOFF_BASE_MS: '20', SCIMCAST_PUSH_BACKOFF_CAP_MS: '100', SCIMCAST_PUSH_TIMEOUT_MS: '2000', SCIMCAST_CALLBACK_MAX_ATTEMPTS: String(MAX_ATTEMPTS) },
    { worker: true, logStream: { write: (line) => void logLines.push(line) } },
  );
  // The owner's own push stream of asyncresp SETs: it keeps getting them beside any callback.
  const rec = await receiver();
  const res = await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url }, events_requested: [ASYNCRESP] });
  expect(res.statusCode, res.body).toBe(201);
  stream = { rec, id: res.json().stream_id, aud: res.json().aud };
});
afterAll(async () => {
  restoreStderr();
  await t?.close();
  for (const r of receivers) await r.close();
});

async function receiver(): Promise<Receiver> {
  const rec = await startReceiver();
  receivers.push(rec);
  return rec;
}

const jwks = async () => (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();

const createUser = (userName: string, prefer: string, token = t.token) =>
  t.req('POST', '/scim/v2/Users', { schemas: [USER], userName }, { auth: token, headers: { prefer } });

async function statusOf(txn: string, token = t.token) {
  return (await t.req('GET', `/scim/v2/AsyncRequests/${txn}`, undefined, { auth: token })).json();
}

/** Requests stored and callback feeds: what an admission would have queued. */
async function queued(): Promise<{ txns: number; callbackFeeds: number }> {
  const r = await t.database.pool.query(`select (select count(*)::int from txns) as txns, (select count(*)::int from feeds where callback_txn is not null) as "callbackFeeds"`);
  return r.rows[0] as { txns: number; callbackFeeds: number };
}

const feedGone = async (txn: string) => (await t.deps.storage.feeds.get(callbackFeedId(txn))) === undefined;

describe('Prefer callback="…": asyncresp SETs pushed to a URL of the request (a scimcast extension)', () => {
  it('a single request: one asyncresp SET to the callback, aud the URL and txn the Set-Txn; Preference-Applied echoes it; the streams get theirs; the feed goes', async () => {
    const rec = await receiver();
    // A token in the query is the receiver's business: it travels, it is never shown in an error.
    const url = `${rec.url}?token=cb-query-secret`;
    const res = await createUser('cb-single', `respond-async, callback="${url}"`);
    expect(res.statusCode, res.body).toBe(202);
    const txn = res.headers['set-txn'] as string;
    expect(res.headers['preference-applied']).toBe(`respond-async, callback="${url}"`);

    await until(() => rec.received.length >= 1, 45_000);
    await until(() => feedGone(txn), 15_000);
    expect(rec.received).toHaveLength(1);
    const got = rec.received[0]!;
    expect(got.headers['content-type']).toBe('application/secevent+jwt');
    const claims = await verifySet(got.body, { jwks: await jwks(), issuer: BASE_URL, audience: url });
    expect(claims.aud).toEqual([url]);
    expect(claims.txn).toBe(txn);
    expect(Object.keys(claims.events)).toEqual([ASYNCRESP]);
    expect(claims.events[ASYNCRESP]).toMatchObject({ method: 'POST', status: '201' });

    // The owner's stream still got its own copy, signed for the stream's audience.
    await until(async () => {
      for (const r of stream.rec.received) if ((await verifySet(r.body, { jwks: await jwks(), audience: stream.aud })).txn === txn) return true;
      return false;
    }, 15_000);

    const status = await statusOf(txn);
    expect(status.callback).toEqual({ status: 'delivered', delivered: 1, dead: 0, pending: 0, dead_letters: [] });
    // `sets` still lists only the owner's streams.
    expect(status.operations[0].sets).toEqual([{ stream_id: stream.id, jti: expect.any(String) }]);
    expect(JSON.stringify(status)).not.toContain('cb-query-secret');
    // The callback's feed is not one of the owner's streams, and nothing of it is left.
    const streams = (await t.req('GET', '/ssf/streams')).json() as { stream_id: string }[];
    expect(streams.map((s) => s.stream_id)).toEqual([stream.id]);
    expect((await t.database.pool.query(`select count(*)::int as n from events where feed_id = $1`, [callbackFeedId(txn)])).rows[0].n).toBe(0);
  });

  it('a bulk of 3: one SET per operation, txn <txn>:0..2', async () => {
    const rec = await receiver();
    const ops = [0, 1, 2].map((i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: { schemas: [USER], userName: `cb-bulk-${i}` } }));
    const res = await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK], Operations: ops }, { headers: { prefer: `respond-async, callback="${rec.url}"` } });
    expect(res.statusCode, res.body).toBe(202);
    const txn = res.headers['set-txn'] as string;
    expect(res.headers['preference-applied']).toBe(`respond-async, callback="${rec.url}"`);
    await until(() => rec.received.length >= 3, 45_000);
    await until(() => feedGone(txn), 15_000);
    expect(rec.received).toHaveLength(3);
    const keys = await jwks();
    const txns = await Promise.all(rec.received.map(async (r) => (await verifySet(r.body, { jwks: keys, audience: rec.url })).txn));
    expect([...txns].sort()).toEqual([`${txn}:0`, `${txn}:1`, `${txn}:2`]);
    expect((await statusOf(txn)).callback).toMatchObject({ status: 'delivered', delivered: 3, dead: 0 });
  });

  it('without the scim:callback scope: 400 invalidValue with the reason, and nothing is queued', async () => {
    const token = await t.tokenWith(['scim:read', 'scim:write', 'scim:bulk']);
    const before = await queued();
    const res = await createUser('cb-noscope', 'respond-async, callback="https://receiver.example/results?token=s3cr3t"', token);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidValue' });
    expect(res.json().detail).toContain('scim:callback');
    expect(res.body).not.toContain('s3cr3t');
    expect(await queued()).toEqual(before);
    expect((await t.req('GET', '/scim/v2/Users?filter=userName eq "cb-noscope"')).json().totalResults).toBe(0);
  });

  it.each([
    ['a private address', 'https://10.1.2.3/results?token=s3cr3t', 'private'],
    ['the cloud metadata address', 'http://169.254.169.254/latest?token=s3cr3t', 'private'],
    ['plain http to a public host', 'http://receiver.example/results?token=s3cr3t', 'https'],
    ['credentials in the URL', 'https://user:s3cr3t@receiver.example/results', 'credentials'],
    ['not a URL', 'not a url s3cr3t', 'https URL'],
  ])('a refused target (%s): 400 invalidValue with the reason, the URL not quoted, nothing queued', async (_name, url, reason) => {
    const before = await queued();
    const res = await createUser('cb-refused', `respond-async, callback="${url}"`);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidValue' });
    expect(res.json().detail).toContain(reason);
    expect(res.body).not.toContain('s3cr3t');
    expect(await queued()).toEqual(before);
  });

  it('a bulk with a refused callback is refused the same way', async () => {
    const before = await queued();
    const ops = [{ method: 'POST', path: '/Users', bulkId: 'x', data: { schemas: [USER], userName: 'cb-bulk-refused' } }];
    const res = await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK], Operations: ops }, { headers: { prefer: 'respond-async, callback="http://192.168.0.10/cb"' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().scimType).toBe('invalidValue');
    expect(await queued()).toEqual(before);
  });

  it('a receiver that keeps failing: retried, then a dead letter in the status resource, and the callback ends', async () => {
    const rec = await receiver();
    rec.respond = () => ({ status: 500 });
    const res = await createUser('cb-failing', `respond-async, callback="${rec.url}"`);
    expect(res.statusCode, res.body).toBe(202);
    const txn = res.headers['set-txn'] as string;
    await until(() => feedGone(txn), 45_000);
    expect(rec.received).toHaveLength(MAX_ATTEMPTS);
    const cb = (await statusOf(txn)).callback;
    expect(cb).toMatchObject({ status: 'failed', delivered: 0, dead: 1, pending: 0 });
    expect(cb.dead_letters).toEqual([
      { txn, jti: expect.any(String), err: 'undeliverable', description: expect.stringContaining(`after ${MAX_ATTEMPTS} attempts`), attempts: MAX_ATTEMPTS, failed_at: expect.any(String) },
    ]);
    // One-shot: nothing more is sent once it ended.
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.received).toHaveLength(MAX_ATTEMPTS);
  });

  it('a receiver that rejects the SET (400 with err): dead at once, shown with the receiver\'s error', async () => {
    const rec = await receiver();
    rec.respond = () => ({ status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ err: 'invalid_audience', description: 'not for me' }) });
    const res = await createUser('cb-rejecting', `respond-async, callback="${rec.url}"`);
    const txn = res.headers['set-txn'] as string;
    await until(() => feedGone(txn), 45_000);
    expect(rec.received).toHaveLength(1);
    const cb = (await statusOf(txn)).callback;
    expect(cb).toMatchObject({ status: 'failed', dead: 1 });
    expect(cb.dead_letters[0]).toMatchObject({ txn, err: 'invalid_audience', description: 'not for me' });
  });

  it('a receiver that refuses the server (401): the callback ends at once, failed with the reason', async () => {
    const rec = await receiver();
    rec.respond = () => ({ status: 401 });
    const ops = [0, 1].map((i) => ({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: { schemas: [USER], userName: `cb-401-${i}` } }));
    const res = await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK], Operations: ops }, { headers: { prefer: `respond-async, callback="${rec.url}"` } });
    const txn = res.headers['set-txn'] as string;
    await until(() => feedGone(txn), 45_000);
    const cb = (await statusOf(txn)).callback;
    expect(cb.status).toBe('failed');
    expect(cb.error).toEqual(expect.stringContaining('401'));
    // The requester still has every result at the status resource.
    await until(async () => (await statusOf(txn)).status === 'completed', 15_000);
    expect(rec.received.length).toBeLessThanOrEqual(2);
  });

  it('`scimcast token create --scopes …,scim:callback` makes a token that may ask for a callback', async () => {
    const p = spawnScimcast(['token', 'create', '--scopes', 'scim:write,scim:callback', '--name', 'callbacks'], { DATABASE_URL: t.dbUrl, BASE_URL });
    expect(await p.exited, p.output()).toBe(0);
    const token = p.output().trim().split('\n').pop()!;
    expect(token).toMatch(/^sct_/);
    const rec = await receiver();
    const res = await createUser('cb-cli', `respond-async, callback="${rec.url}"`, token);
    expect(res.statusCode, res.body).toBe(202);
    await until(() => rec.received.length === 1, 45_000);
  });

  it('requests without a callback behave as before: no callback member, Preference-Applied respond-async alone', async () => {
    const res = await createUser('cb-none', 'respond-async');
    expect(res.headers['preference-applied']).toBe('respond-async');
    const txn = res.headers['set-txn'] as string;
    await until(async () => (await statusOf(txn)).status === 'completed', 45_000);
    expect((await statusOf(txn)).callback).toBeUndefined();
    expect((await queued()).callbackFeeds).toBe(0);
  });

  it('a callback on a synchronous request is ignored (RFC 7240 §2), with or without the scope', async () => {
    const token = await t.tokenWith(['scim:write']);
    const res = await createUser('cb-sync', 'callback="https://10.0.0.1/x"', token);
    expect(res.statusCode).toBe(201);
    expect(res.headers['preference-applied']).toBeUndefined();
  });

  it('a query token in a callback URL never reaches a log line', async () => {
    const rec = await receiver();
    rec.respond = (n) => ({ status: n === 0 ? 503 : 202 });
    const res = await createUser('cb-logged', `respond-async, callback="${rec.url}?token=cb-log-secret"`);
    const txn = res.headers['set-txn'] as string;
    await until(() => feedGone(txn), 45_000);
    expect(rec.received).toHaveLength(2);
    expect(logLines.length).toBeGreaterThan(0);
    for (const secret of ['cb-query-secret', 's3cr3t', 'cb-log-secret']) expect(logLines.filter((l) => l.includes(secret))).toEqual([]);
  });
});
