import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/streams.js';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';

/**
 * `scimcast streams …` over HTTP (--url/--token or SCIMCAST_URL/SCIMCAST_TOKEN)
 * against a listening scimcast, each command checked by the server state it changed; and the
 * database mode that remains when no URL is configured.
 */
const ROOT = join(import.meta.dirname, '../..');
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';

let t: TestApp;
let scimBase: string;
const receivers: Receiver[] = [];
beforeAll(async () => {
  t = await startTestApp({ SCIMCAST_PUSH_BACKOFF_BASE_MS: '20', SCIMCAST_PUSH_BACKOFF_CAP_MS: '100' }, { worker: true });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  scimBase = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/scim/v2`;
});
afterAll(async () => {
  await t?.close();
  for (const r of receivers) await r.close();
});

const env = (over: Record<string, string>) => ({ ...process.env, SCIMCAST_URL: scimBase, SCIMCAST_TOKEN: t.token, DATABASE_URL: t.dbUrl, BASE_URL, LOG_LEVEL: 'silent', ...over });

/**
 * `scimcast streams …` in this process (the command's own run(argv), real HTTP and database):
 * HTTP mode unless `over` clears SCIMCAST_URL. A child process costs seconds to start, so only
 * `child` below goes through bin/scimcast.js, to show the command is wired there.
 */
async function streams(args: string[], over: Record<string, string> = {}): Promise<{ code: number; out: any; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: env(over) });
  return { code, out: code === 0 ? JSON.parse(stdout) : stdout, stderr };
}

async function child(args: string[], over: Record<string, string> = {}): Promise<{ code: number; out: any; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/scimcast.js', 'streams', ...args], { cwd: ROOT, env: env(over) });
    return { code: 0, out: JSON.parse(stdout), stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, stderr: x.stderr };
  }
}

const ok = async (...args: string[]) => {
  const r = await streams(args);
  expect(r.code, r.stderr).toBe(0);
  return r.out;
};
const server = async (path: string) => (await t.req('GET', path)).json();
const mkUser = (userName: string) => t.req('POST', '/scim/v2/Users', { schemas: [USER], userName });

describe('scimcast streams over HTTP', () => {
  it('create (poll and push), list, get and delete change what the server holds', async () => {
    const rec = await startReceiver();
    receivers.push(rec);
    const [viaBin, push] = await Promise.all([
      child(['create', '--poll', '--events', 'prov:create:notice,misc:asyncresp', '--description', 'cli poll']),
      ok('create', '--push', rec.url, '--auth-header', 'Bearer rec-secret', '--events', `${EV}prov:delete`, '--profile', 'draft-03', '--max-in-flight', '4'),
    ]);
    expect(viaBin.code, viaBin.stderr).toBe(0);
    const poll = viaBin.out;
    expect(await server(`/ssf/streams/${poll.stream_id}`)).toMatchObject({
      delivery: { method: 'urn:ietf:rfc:8936' },
      events_delivered: [`${EV}prov:create:notice`, `${EV}misc:asyncresp`],
      description: 'cli poll',
    });
    expect(await server(`/ssf/streams/${push.stream_id}`)).toMatchObject({ delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url }, profile: 'draft-03', max_in_flight: 4 });
    const [list, got] = await Promise.all([ok('list'), ok('get', push.stream_id)]);
    expect(list.map((s: { stream_id: string }) => s.stream_id)).toEqual(expect.arrayContaining([poll.stream_id, push.stream_id]));
    expect(got.stream_id).toBe(push.stream_id);
    // The push authorization_header reached the server: the receiver sees it.
    const user = (await mkUser('cli-streams-del')).json();
    await t.req('DELETE', `/scim/v2/Users/${user.id}`);
    await until(() => rec.received.length === 1);
    expect(rec.received[0]!.headers.authorization).toBe('Bearer rec-secret');

    expect(await ok('delete', poll.stream_id)).toEqual({ stream_id: poll.stream_id, deleted: true });
    expect((await t.req('GET', `/ssf/streams/${poll.stream_id}`)).statusCode).toBe(404);
  }, 120_000);

  it('pause, status, resume and verify', async () => {
    const s = await ok('create', '--events', 'prov:create:notice');
    expect(s.events_delivered).toEqual([`${EV}prov:create:notice`]);
    expect(await ok('pause', s.stream_id, '--reason', 'maintenance')).toEqual({ stream_id: s.stream_id, status: 'paused', reason: 'maintenance' });
    expect(await server(`/ssf/status?stream_id=${s.stream_id}`)).toEqual({ stream_id: s.stream_id, status: 'paused', reason: 'maintenance' });
    expect(await ok('status', s.stream_id)).toEqual({ stream_id: s.stream_id, status: 'paused', reason: 'maintenance' });
    expect(await ok('resume', s.stream_id)).toEqual({ stream_id: s.stream_id, status: 'enabled' });
    expect((await server(`/ssf/status?stream_id=${s.stream_id}`)).status).toBe('enabled');
    expect(await ok('verify', s.stream_id, '--state', 'cli-state-1')).toEqual({ stream_id: s.stream_id, verification: 'requested', state: 'cli-state-1' });
    const polled = (await t.req('POST', `/ssf/streams/${s.stream_id}/poll`, { returnImmediately: true })).json();
    const events = Object.values(polled.sets as Record<string, string>).map((jws) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()).events);
    // Two stream-updated SETs (paused, enabled), then the verification SET with our state (OpenID SSF 1.0 §8.1.4, §8.1.5).
    expect(events).toEqual([
      { 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated': { status: 'paused', reason: 'maintenance' } },
      { 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated': { status: 'enabled' } },
      { 'https://schemas.openid.net/secevent/ssf/event-type/verification': { state: 'cli-state-1' } },
    ]);
    expect(await ok('status', s.stream_id, '--set', 'disabled', '--reason', 'gone')).toMatchObject({ status: 'disabled', reason: 'gone' });
  }, 120_000);

  it('stats, dead, redrive and replay', async () => {
    const rec = await startReceiver();
    receivers.push(rec);
    rec.respond = (n) => (n === 0 ? { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ err: 'invalid_request', description: 'unknown subject' }) } : { status: 202 });
    const s = await ok('create', '--push', rec.url, '--events', 'prov:create:notice');
    await mkUser('cli-streams-dead');
    await mkUser('cli-streams-ok');
    await until(async () => (await server(`/ssf/streams/${s.stream_id}/stats`)).counts.dead === 1 && (await server(`/ssf/streams/${s.stream_id}/stats`)).counts.delivered === 1);
    const [stats, dead] = await Promise.all([ok('stats', s.stream_id), ok('dead', s.stream_id, '--limit', '5')]);
    expect(stats).toMatchObject({ stream_id: s.stream_id, counts: { dead: 1, delivered: 1 }, last_error: { err: 'invalid_request', description: 'unknown subject' } });
    expect(dead.sets).toEqual([expect.objectContaining({ err: 'invalid_request', description: 'unknown subject' })]);

    expect(await ok('redrive', s.stream_id, '--jti', dead.sets[0].jti)).toEqual({ stream_id: s.stream_id, redriven: 1 });
    await until(() => rec.received.length === 3);
    expect(rec.received[2]!.body).toBe(rec.received[0]!.body); // the same bytes again
    await until(async () => (await server(`/ssf/streams/${s.stream_id}/stats`)).counts.delivered === 2);

    expect(await ok('replay', s.stream_id, '--all')).toEqual({ stream_id: s.stream_id, replayed: 2 });
    await until(() => rec.received.length === 5);
  }, 120_000);

  it('errors: an unknown stream is exit 1 with the server\'s detail; another token\'s stream is not found; bad usage is exit 2', async () => {
    const other = await t.tokenWith(['feeds:admin']);
    const mine = await ok('create', '--events', 'prov:create:notice');
    const [missing, foreign, noToken, badSet, badSelector] = await Promise.all([
      streams(['stats', 'f-doesnotexist']),
      streams(['pause', mine.stream_id], { SCIMCAST_TOKEN: other }),
      streams(['list'], { SCIMCAST_TOKEN: '' }),
      streams(['status', mine.stream_id, '--set', 'sleeping']),
      streams(['redrive', mine.stream_id]),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/HTTP 404: stream f-doesnotexist not found/);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/HTTP 404/);
    expect((await server(`/ssf/status?stream_id=${mine.stream_id}`)).status).toBe('enabled');
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/SCIMCAST_TOKEN is required/);
    expect(badSet.code).toBe(2);
    expect(badSelector.code).toBe(1);
    expect(badSelector.stderr).toMatch(/HTTP 400: say which SETs/);
  }, 120_000);
});

describe('scimcast streams without a URL (database mode, any owner)', () => {
  it('pauses and resumes another owner\'s stream and refuses the HTTP-only commands', async () => {
    const other = await t.tokenWith(['feeds:admin']);
    const s = (await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:create:notice`] }, { auth: other })).json();
    const db = { SCIMCAST_URL: '', SCIMCAST_TOKEN: '' };
    const [paused, create] = await Promise.all([child(['pause', s.stream_id, '--reason', 'operator'], db), streams(['create', '--poll'], db)]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.out).toEqual({ stream_id: s.stream_id, status: 'paused', reason: 'operator' });
    expect((await t.req('GET', `/ssf/status?stream_id=${s.stream_id}`, undefined, { auth: other })).json().status).toBe('paused');
    expect(create.code).toBe(2);
    expect(create.stderr).toMatch(/uses the HTTP API/);
    const resumed = await streams(['resume', s.stream_id], db);
    expect(resumed.out).toEqual({ stream_id: s.stream_id, status: 'enabled' });
  }, 120_000);
});
