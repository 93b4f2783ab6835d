import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';
import { pushStreamTo } from '../helpers/push-stream.js';

/**
 * What an operator sees and does per stream, through the API: counts, oldest
 * pending age and last error; dead letters with their errors; redrive; replay with the same bytes
 * and jti; the same from the CLI against the database.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';
const ROOT = join(import.meta.dirname, '../..');

let t: TestApp;
const receivers: Receiver[] = [];
beforeAll(async () => {
  t = await startTestApp({ SCIMCAST_PUSH_BACKOFF_BASE_MS: '20', SCIMCAST_PUSH_BACKOFF_CAP_MS: '100' }, { worker: true });
});
afterAll(async () => {
  await t?.close();
  for (const r of receivers) await r.close();
});

const pushStream = () => pushStreamTo(t, receivers);
const mkUser = (userName: string) => t.req('POST', '/scim/v2/Users', { schemas: [USER], userName });
const stats = async (id: string) => (await t.req('GET', `/ssf/streams/${id}/stats`)).json();

describe('stream operator API', () => {
  it('a rejected SET is listed as dead with its error; redrive sends the same bytes again', async () => {
    const { rec, id } = await pushStream();
    rec.respond = (n) => (n === 0 ? { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ err: 'invalid_request', description: 'unknown subject' }) } : { status: 202 });
    await mkUser('op-dead-1');
    await mkUser('op-dead-2');
    await until(async () => (await stats(id)).counts.delivered === 1 && (await stats(id)).counts.dead === 1);
    const s = await stats(id);
    expect(s).toMatchObject({ stream_id: id, status: 'enabled', counts: { pending: 0, delivered: 1, dead: 1 }, oldest_pending_age_seconds: null });
    expect(s.last_error).toMatchObject({ state: 'dead', err: 'invalid_request', description: 'unknown subject' });
    const dead = (await t.req('GET', `/ssf/streams/${id}/dead`)).json();
    expect(dead.sets).toHaveLength(1);
    expect(dead.sets[0]).toMatchObject({ err: 'invalid_request', description: 'unknown subject', event: `${EV}prov:create:notice`, subject: expect.stringMatching(/^\/Users\//) });
    const firstBytes = rec.received[0]!.body;

    const res = await t.req('POST', `/ssf/streams/${id}/redrive`, { jti: dead.sets[0].jti });
    expect(res.json()).toEqual({ stream_id: id, redriven: 1 });
    await until(() => rec.received.length === 3);
    expect(rec.received[2]!.body).toBe(firstBytes); // same JWS, same jti (RFC 8935 §2: a retransmission is the same SET)
    await until(async () => (await stats(id)).counts.delivered === 2);
    expect((await stats(id)).counts.dead).toBe(0);
  });

  it('replay re-sends delivered SETs from a jti, in commit order', async () => {
    const { rec, id } = await pushStream();
    for (let i = 0; i < 3; i++) await mkUser(`op-replay-${i}`);
    await until(() => rec.received.length === 3);
    await until(async () => (await stats(id)).counts.delivered === 3);
    const { jti } = JSON.parse(Buffer.from(rec.received[1]!.body.split('.')[1]!, 'base64url').toString()) as { jti: string };
    const res = await t.req('POST', `/ssf/streams/${id}/replay`, { from_jti: jti });
    expect(res.json()).toEqual({ stream_id: id, replayed: 2 });
    await until(() => rec.received.length === 5);
    expect(rec.received.slice(3).map((r) => r.body)).toEqual(rec.received.slice(1, 3).map((r) => r.body));
  });

  it('a paused stream reports its backlog and the age of the oldest pending SET', async () => {
    const { id } = await pushStream();
    await t.req('POST', '/ssf/status', { stream_id: id, status: 'paused', reason: 'maintenance' });
    await mkUser('op-paused');
    const s = await stats(id);
    expect(s).toMatchObject({ status: 'paused', reason: 'maintenance' });
    expect(s.counts.pending).toBeGreaterThanOrEqual(1);
    expect(s.oldest_pending_age_seconds).toEqual(expect.any(Number));
  });

  it('poll setErrs land in the dead letter, visible and redrivable', async () => {
    const feed = (await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:create:notice`] })).json();
    await mkUser('op-poll');
    const polled = (await t.req('POST', `/ssf/streams/${feed.stream_id}/poll`, { returnImmediately: true })).json();
    const [jti] = Object.keys(polled.sets);
    await t.req('POST', `/ssf/streams/${feed.stream_id}/poll`, { returnImmediately: true, maxEvents: 0, setErrs: { [jti!]: { err: 'invalid_key', description: 'cannot verify' } } });
    const dead = (await t.req('GET', `/ssf/streams/${feed.stream_id}/dead`)).json();
    expect(dead.sets).toEqual([expect.objectContaining({ jti, err: 'invalid_key', description: 'cannot verify' })]);
    expect((await t.req('POST', `/ssf/streams/${feed.stream_id}/redrive`, { all: true })).json().redriven).toBe(1);
    const again = (await t.req('POST', `/ssf/streams/${feed.stream_id}/poll`, { returnImmediately: true })).json();
    expect(Object.keys(again.sets)).toEqual([jti]);
  });

  it('bad selections are SCIM 400s; another token sees 404', async () => {
    const { id } = await pushStream();
    for (const body of [{}, { all: true, jti: 'x' }, { from_jti: 'nope' }, { since: 'yesterday' }, [1]]) {
      const res = await t.req('POST', `/ssf/streams/${id}/redrive`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ status: '400', scimType: expect.any(String), detail: expect.any(String) });
    }
    const other = await t.tokenWith(['feeds:admin']);
    expect((await t.req('GET', `/ssf/streams/${id}/stats`, undefined, { auth: other })).statusCode).toBe(404);
    expect((await t.req('POST', `/ssf/streams/${id}/replay`, { all: true }, { auth: other })).statusCode).toBe(404);
  });

  it('the CLI shows and redrives the same, against the database while the server runs', async () => {
    const { rec, id } = await pushStream();
    rec.respond = (n) => (n === 0 ? { status: 400, body: JSON.stringify({ err: 'invalid_request', description: 'nope' }), headers: { 'content-type': 'application/json' } } : { status: 202 });
    await mkUser('op-cli');
    await until(async () => (await stats(id)).counts.dead === 1);
    const run = async (...args: string[]) => {
      const { stdout } = await promisify(execFile)(process.execPath, ['bin/scimcast.js', 'streams', ...args], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: t.dbUrl, BASE_URL, LOG_LEVEL: 'silent' },
      });
      return JSON.parse(stdout);
    };
    expect(await run('stats', id)).toMatchObject({ stream_id: id, counts: { dead: 1 } });
    expect((await run('dead', id)).sets[0]).toMatchObject({ err: 'invalid_request', description: 'nope' });
    expect(await run('redrive', id, '--all')).toEqual({ stream_id: id, redriven: 1 });
    expect((await run('list')).map((s: { stream_id: string }) => s.stream_id)).toContain(id);
  }, 60_000);
});
