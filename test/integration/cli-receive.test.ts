import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySet } from '../../src/events/verify.js';
import { freePort } from '../../src/storage/embedded.js';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/receiver.js';
import { AUD, claims, makeKey, sign, startJwksServer, tamper } from '../unit/client/receiver-fixtures.js';

/**
 * `scimcast receive` as a child process against a real, listening scimcast.
 * Poll (RFC 8936): SETs written as NDJSON, acknowledged (the next poll is empty), duplicates
 * suppressed across runs, rejected SETs reported in setErrs and dead-lettered with their code.
 * Listen (RFC 8935): a push stream pointed at it gets 202s; a tampered, foreign or unknown-key SET
 * gets 400 with the right `err`; input from older peers is accepted with a warning.
 * Without --iss / --aud the expected issuer and audience are the stream's own, read from the
 * server; a push receiver with neither them nor --stream does not start.
 */
const ROOT = join(import.meta.dirname, '../..');
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';
const dir = mkdtempSync(join(tmpdir(), 'scimcast-receive-'));
let files = 0;
const outFile = () => join(dir, `sets-${files++}.ndjson`);

let t: TestApp;
let origin: string;
const children: ChildProcess[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  t = await startTestApp({ SCIMCAST_PUSH_BACKOFF_BASE_MS: '20', SCIMCAST_PUSH_BACKOFF_CAP_MS: '200', SCIMCAST_POLL_TIMEOUT_MS: '2000' }, { worker: true });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  origin = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const s of servers) await new Promise((r) => s.close(r));
  await t?.close();
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function scimcast(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, ['bin/scimcast.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, SCIMCAST_URL: '', SCIMCAST_TOKEN: '', DATABASE_URL: t.dbUrl, BASE_URL, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code))));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function finished(r: Run): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const code = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

/** For a run that must exit by itself: killed after `ms` (its code is then null). */
async function finishedWithin(r: Run, ms: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const timer = setTimeout(() => r.child.kill('SIGKILL'), ms);
  try {
    return await finished(r);
  } finally {
    clearTimeout(timer);
  }
}

/** The claims of a stored SET, re-signed with the server's own key after `change`: a SET the transmitter could have sent. */
async function resign(jws: string, change: Record<string, unknown>): Promise<string> {
  const claims = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  return t.deps.streams.sign({ ...claims, ...change } as never, { storage: t.deps.storage });
}

const serverEnv = () => ({ SCIMCAST_URL: `${origin}/scim/v2`, SCIMCAST_TOKEN: t.token });

const ndjson = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
/** A user, with its SETs signed (as the worker does right after the commit). */
const mkUser = async (userName: string) => {
  const id = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName })).json().id as string;
  await t.settle();
  return id;
};
const pollStream = async (events: string[], extra: Record<string, unknown> = {}) =>
  (await t.req('POST', '/ssf/streams', { events_requested: events, ...extra })).json() as { stream_id: string; aud: string };
const stats = async (id: string) => (await t.req('GET', `/ssf/streams/${id}/stats`)).json();
const pollNow = async (id: string) => (await t.req('POST', `/ssf/streams/${id}/poll`, { returnImmediately: true }, { headers: { 'content-type': 'application/json' } })).json() as { sets: Record<string, string> };

function receiveArgs(stream: { stream_id: string; aud: string }, ...more: string[]) {
  return ['receive', '--poll', `${origin}/ssf/streams/${stream.stream_id}/poll`, '--jwks', `${origin}/jwks.json`, '--iss', BASE_URL, '--aud', stream.aud, '--token', t.token, ...more];
}

describe('scimcast receive --poll', () => {
  it('writes verified SETs as NDJSON, acknowledges them, and suppresses duplicates on the next run', async () => {
    const stream = await pollStream([`${EV}prov:create:notice`]);
    const ids = [await mkUser('recv-poll-1'), await mkUser('recv-poll-2'), await mkUser('recv-poll-3')];
    const out = outFile();
    const first = await finished(scimcast(receiveArgs(stream, '--once', '--out', out)));
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(''); // NDJSON went to --out
    const lines = ndjson(readFileSync(out, 'utf8'));
    expect(lines.map((l) => l.sub_id.uri)).toEqual(ids.map((id) => `/Users/${id}`));
    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    for (const l of lines) {
      expect(l).toMatchObject({ iss: BASE_URL, aud: [stream.aud], iat: expect.any(Number), txn: expect.any(String), via: 'poll', events: { [`${EV}prov:create:notice`]: { attributes: expect.any(Array) } } });
      expect((await verifySet(l.set, { jwks })).jti).toBe(l.jti);
    }
    expect(first.stderr).toMatch(/3 accepted, 0 duplicate, 0 rejected/);
    // Acknowledged (RFC 8936 §2.4): nothing comes back on the next poll.
    expect((await stats(stream.stream_id)).counts).toMatchObject({ acked: 3, pending: 0 });
    expect(await pollNow(stream.stream_id)).toEqual({ sets: {}, moreAvailable: false });

    // The operator replays them; the receiver knows these jtis from its file and writes nothing.
    expect((await t.req('POST', `/ssf/streams/${stream.stream_id}/replay`, { all: true })).json()).toEqual({ stream_id: stream.stream_id, replayed: 3 });
    const second = await finished(scimcast(receiveArgs(stream, '--once', '--out', out)));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/0 accepted, 3 duplicate, 0 rejected/);
    expect(ndjson(readFileSync(out, 'utf8'))).toHaveLength(3);
    expect((await stats(stream.stream_id)).counts).toMatchObject({ acked: 3, pending: 0 }); // duplicates are acknowledged too
  }, 120_000);

  it('takes a stream id with SCIMCAST_URL / SCIMCAST_TOKEN, finds the JWKS itself, writes to stdout', async () => {
    const stream = await pollStream([`${EV}prov:create:full`]);
    const id = await mkUser('recv-env');
    const r = await finished(scimcast(['receive', '--poll', stream.stream_id, '--once', '--quiet'], { SCIMCAST_URL: `${origin}/scim/v2`, SCIMCAST_TOKEN: t.token }));
    expect(r.code, r.stderr).toBe(0);
    const [line, ...rest] = ndjson(r.stdout);
    expect(rest).toEqual([]);
    expect(line!.events[`${EV}prov:create:full`].data).toMatchObject({ id, userName: 'recv-env' });
  });

  it('a tampered SET is reported in setErrs (dead-lettered as invalid_request) and not written', async () => {
    const stream = await pollStream([`${EV}prov:create:notice`]);
    await mkUser('recv-tamper-ok');
    await mkUser('recv-tamper-bad');
    const { rows } = await t.database.pool.query<{ jti: string; jws: string }>('select jti, jws from events where feed_id = $1 order by seq', [stream.stream_id]);
    const bad = rows[1]!;
    await t.database.pool.query('update events set jws = $1 where jti = $2', [tamper(bad.jws), bad.jti]);
    const out = outFile();
    const r = await finished(scimcast(receiveArgs(stream, '--once', '--out', out)));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`rejected SET ${bad.jti}: invalid_request`);
    expect(ndjson(readFileSync(out, 'utf8')).map((l) => l.jti)).toEqual([rows[0]!.jti]);
    const dead = (await t.req('GET', `/ssf/streams/${stream.stream_id}/dead`)).json();
    expect(dead.sets).toEqual([expect.objectContaining({ jti: bad.jti, err: 'invalid_request', description: expect.stringMatching(/signature/) })]);
    expect((await stats(stream.stream_id)).counts).toMatchObject({ acked: 1, dead: 1, pending: 0 });
  });

  it('wrong --aud, wrong --iss and a JWKS without the key are invalid_audience, invalid_issuer, invalid_key', async () => {
    const empty = createServer((_q, s) => s.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}'));
    servers.push(empty);
    await new Promise<void>((r) => empty.listen(0, '127.0.0.1', r));
    const emptyJwks = `http://127.0.0.1:${(empty.address() as AddressInfo).port}/jwks.json`;
    const cases: [string[], string][] = [
      [['--aud', 'https://elsewhere.example/feed'], 'invalid_audience'],
      [['--iss', 'https://elsewhere.example'], 'invalid_issuer'],
      [['--jwks', emptyJwks], 'invalid_key'],
    ];
    await Promise.all(
      cases.map(async ([flags, err]) => {
        const stream = await pollStream([`${EV}prov:create:notice`]);
        await mkUser(`recv-${err}`);
        const out = outFile();
        // Later flags win in parseArgs: the case's flag replaces the right one.
        const r = await finished(scimcast([...receiveArgs(stream, '--once', '--out', out), ...flags]));
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toMatch(new RegExp(`rejected SET \\S+: ${err}`));
        expect(readFileSync(out, 'utf8')).toBe('');
        // The cases run side by side, so a stream may also hold the other cases' users: every
        // SET it held is rejected, and with this case's code.
        const dead = (await t.req('GET', `/ssf/streams/${stream.stream_id}/dead`)).json().sets as Array<{ err: string }>;
        expect(dead.length).toBeGreaterThanOrEqual(1);
        expect(dead.map((d) => d.err)).toEqual(dead.map(() => err));
      }),
    );
  }, 120_000);

  it('without --iss / --aud, a SET for another stream or from another issuer is rejected (invalid_audience, invalid_issuer) and not written', async () => {
    const mine = await pollStream([`${EV}prov:create:notice`]);
    const other = await pollStream([`${EV}prov:create:notice`]);
    await mkUser('recv-expect-1');
    await mkUser('recv-expect-2');
    await mkUser('recv-expect-3');
    const rows = async (id: string) =>
      (await t.database.pool.query<{ jti: string; jws: string }>('select jti, jws from events where feed_id = $1 order by seq', [id])).rows;
    const [kept, forOther, fromOther] = await rows(mine.stream_id);
    const [theirs] = await rows(other.stream_id);
    // The other stream's SET, moved into this stream under its own jti: signed by this server, for another audience.
    await t.database.pool.query('delete from events where jti = $1', [theirs!.jti]);
    await t.database.pool.query('update events set jti = $1, jws = $2 where jti = $3', [theirs!.jti, theirs!.jws, forOther!.jti]);
    // A SET signed with this server's key, for this stream, but naming another issuer.
    await t.database.pool.query('update events set jws = $1 where jti = $2', [await resign(fromOther!.jws, { iss: 'https://other-transmitter.example' }), fromOther!.jti]);

    const out = outFile();
    const r = await finished(scimcast(['receive', '--poll', mine.stream_id, '--once', '--out', out], serverEnv()));
    expect(r.code, r.stderr).toBe(0);
    expect(ndjson(readFileSync(out, 'utf8')).map((l) => l.jti)).toEqual([kept!.jti]);
    expect(r.stderr).toMatch(/1 accepted, 0 duplicate, 2 rejected/);
    expect(r.stderr).toContain(`rejected SET ${theirs!.jti}: invalid_audience`);
    expect(r.stderr).toContain(`rejected SET ${fromOther!.jti}: invalid_issuer`);
    expect(r.stderr).toContain(`expecting iss ${BASE_URL} and aud ${mine.aud}`);
    const dead = (await t.req('GET', `/ssf/streams/${mine.stream_id}/dead`)).json().sets as Array<{ jti: string; err: string }>;
    expect(Object.fromEntries(dead.map((d) => [d.jti, d.err]))).toEqual({ [theirs!.jti]: 'invalid_audience', [fromOther!.jti]: 'invalid_issuer' });
  }, 120_000);

  it('a scimcast poll URL without --iss / --aud is checked against its stream; another URL needs the flags (exit 2)', async () => {
    const stream = await pollStream([`${EV}prov:create:notice`]);
    await mkUser('recv-expect-url');
    const ok = await finished(scimcast(['receive', '--poll', `${origin}/ssf/streams/${stream.stream_id}/poll`, '--jwks', `${origin}/jwks.json`, '--token', t.token, '--once']));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain(`expecting iss ${BASE_URL} and aud ${stream.aud}`);
    expect(ok.stderr).toMatch(/1 accepted, 0 duplicate, 0 rejected/);
    const elsewhere = await finishedWithin(scimcast(['receive', '--poll', `${origin}/elsewhere/poll`, '--jwks', `${origin}/jwks.json`, '--token', t.token, '--once']), 30_000);
    expect(elsewhere.code, elsewhere.stderr).toBe(2);
    expect(elsewhere.stderr).toMatch(/--poll URL needs the issuer and audience .*pass --iss ISS and --aud AUD, or --stream ID/);
  }, 120_000);

  it('maps a draft-03 stream\'s misc:asyncResp to the RFC 9967 URI; status stays a string', async () => {
    const stream = await pollStream([`${EV}misc:asyncresp`], { profile: 'draft-03' });
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'recv-async' }, { headers: { prefer: 'respond-async' } });
    expect(res.statusCode).toBe(202);
    await until(async () => (await stats(stream.stream_id)).counts.pending === 1);
    const r = await finished(scimcast([...receiveArgs(stream, '--once')]));
    expect(r.code, r.stderr).toBe(0);
    const [line] = ndjson(r.stdout);
    expect(line!.events).toEqual({ [`${EV}misc:asyncresp`]: expect.objectContaining({ method: 'POST', status: '201' }) });
    expect(line!.txn).toBe(res.headers['set-txn']);
    const raw = JSON.parse(Buffer.from(String(line!.set).split('.')[1]!, 'base64url').toString());
    expect(Object.keys(raw.events)).toEqual(['urn:ietf:params:SCIM:event:misc:asyncResp']);
  });

  it('keeps polling until SIGINT, then acknowledges what it wrote and exits 0', async () => {
    const stream = await pollStream([`${EV}prov:create:notice`]);
    const out = outFile();
    const run = scimcast(receiveArgs(stream, '--out', out));
    await mkUser('recv-sigint-1');
    await until(() => ndjson(readFileSync(out, { encoding: 'utf8', flag: 'a+' })).length === 1, 30_000);
    await mkUser('recv-sigint-2');
    await until(() => ndjson(readFileSync(out, 'utf8')).length === 2, 30_000);
    run.child.kill('SIGINT');
    const r = await finished(run);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/2 accepted/);
    expect((await stats(stream.stream_id)).counts).toMatchObject({ acked: 2, pending: 0 });
  });

  it('fails with a message and exit 1 on a wrong token; exit 2 on bad usage', async () => {
    const stream = await pollStream([`${EV}prov:create:notice`]);
    const r = await finished(scimcast([...receiveArgs(stream, '--once'), '--token', 'nope']));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/HTTP 401/);
    // With a bare stream id and no --iss/--aud, the stream's configuration cannot be read either.
    const b = await finished(scimcast(['receive', '--poll', stream.stream_id, '--once'], { SCIMCAST_URL: `${origin}/scim/v2`, SCIMCAST_TOKEN: 'nope' }));
    expect(b.code, b.stderr).toBe(1);
    expect(b.stderr).toMatch(new RegExp(`cannot read the configuration of stream ${stream.stream_id} .*HTTP 401.*--iss and --aud`));
    const u = await finished(scimcast(['receive', '--jwks', `${origin}/jwks.json`]));
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--poll URL or --listen PORT/);
  }, 120_000);
});

describe('scimcast receive --listen', () => {
  it('takes a push stream\'s SETs with 202; answers a tampered or foreign SET with 400 and the right err', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/events`;
    const push = (await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: url, authorization_header: 'Bearer push-secret' }, events_requested: [`${EV}prov:create:notice`] })).json();
    const other = await pollStream([`${EV}prov:create:notice`]);
    const out = outFile();
    const run = scimcast(['receive', '--listen', String(port), '--path', '/events', '--auth', 'push-secret', '--jwks', `${origin}/jwks.json`, '--iss', BASE_URL, '--aud', push.aud, '--max', '2', '--out', out]);
    await until(() => run.stderr().includes(`listening on ${url}`), 30_000);

    const id1 = await mkUser('recv-push-1');
    await until(() => ndjson(readFileSync(out, 'utf8')).length === 1, 30_000);
    const [first] = ndjson(readFileSync(out, 'utf8'));
    expect(first).toMatchObject({ via: 'push', sub_id: { uri: `/Users/${id1}` }, aud: [push.aud] });

    const post = (body: string, auth = 'Bearer push-secret') => fetch(url, { method: 'POST', headers: { 'content-type': 'application/secevent+jwt', authorization: auth }, body });
    const tampered = await post(tamper(first!.set));
    expect(tampered.status).toBe(400);
    expect(tampered.headers.get('content-language')).toBe('en');
    expect((await tampered.json()) as { err: string }).toEqual({ err: 'invalid_request', description: expect.any(String) });
    // A SET for another stream (its aud) is not ours.
    const foreign = Object.values((await pollNow(other.stream_id)).sets)[0]!;
    const wrongAud = await post(foreign);
    expect(wrongAud.status).toBe(400);
    expect(((await wrongAud.json()) as { err: string }).err).toBe('invalid_audience');
    // A repeat of a delivered SET is 202 again and not written twice (RFC 8935 §2).
    expect((await post(first!.set)).status).toBe(202);
    expect((await post(first!.set, 'Bearer wrong')).status).toBe(401);

    await mkUser('recv-push-2');
    const r = await finished(run); // --max 2: exits after the second accepted SET
    expect(r.code, r.stderr).toBe(0);
    expect(ndjson(readFileSync(out, 'utf8'))).toHaveLength(2);
    await until(async () => (await stats(push.stream_id)).counts.delivered === 2);
    expect((await stats(push.stream_id)).counts).toMatchObject({ delivered: 2, dead: 0, pending: 0 });
    expect((await stats(push.stream_id)).status).toBe('enabled');
  }, 120_000);

  it('accepts an i2scim-style SET (asyncResp URI, numeric status, no iat) with a warning on stderr', async () => {
    const key = await makeKey('peer-key');
    const jwks = await startJwksServer([key]);
    try {
      const port = await freePort();
      const run = scimcast(['receive', '--listen', String(port), '--jwks', jwks.url, '--iss', 'https://i2scim.example', '--aud', AUD, '--once']);
      await until(() => run.stderr().includes('listening on'), 30_000);
      const c = claims({ iss: 'https://i2scim.example', iat: undefined, events: { 'urn:ietf:params:SCIM:event:misc:asyncResp': { method: 'PATCH', status: 200, location: '/Users/u1' } } });
      const unknownKid = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/secevent+jwt' }, body: await sign(await makeKey('stranger'), claims({ iss: 'https://i2scim.example' })) });
      expect(unknownKid.status).toBe(400);
      expect(((await unknownKid.json()) as { err: string }).err).toBe('invalid_key');
      const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/secevent+jwt' }, body: await sign(key, c) });
      expect(res.status).toBe(202);
      const r = await finished(run);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`warning: SET ${c.jti as string}: no iat`));
      const [line] = ndjson(r.stdout);
      expect(line).toMatchObject({ jti: c.jti, iat: null, events: { [`${EV}misc:asyncresp`]: { method: 'PATCH', status: '200', location: '/Users/u1' } }, warnings: [expect.stringMatching(/no iat/)] });
    } finally {
      await jwks.close();
    }
  });

  it('does not start without --iss and --aud, or --stream (exit 2, saying what to pass)', async () => {
    const port = await freePort();
    for (const more of [[], ['--iss', BASE_URL], ['--aud', `${BASE_URL}/ssf/streams/f-x`]]) {
      const r = await finishedWithin(scimcast(['receive', '--listen', String(port), '--jwks', `${origin}/jwks.json`, '--once', ...more]), 30_000);
      expect(r.code, `${more.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/--listen needs the issuer and audience its SETs must carry: pass --iss ISS and --aud AUD, or --stream ID with --url/);
      expect(r.stderr).not.toMatch(/listening on/);
    }
  }, 120_000);

  it('with --stream ID, checks against that stream: another stream\'s SET is invalid_audience, another issuer\'s invalid_issuer', async () => {
    // Another stream's SET, made before the push stream exists (so it gets none of it).
    const other = await pollStream([`${EV}prov:create:notice`]);
    await mkUser('recv-push-other');
    const foreign = Object.values((await pollNow(other.stream_id)).sets)[0]!;
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/events`;
    const push = (await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: url }, events_requested: [`${EV}prov:create:notice`] })).json();
    const run = scimcast(['receive', '--listen', String(port), '--path', '/events', '--stream', push.stream_id, '--once'], serverEnv());
    await until(() => run.stderr().includes(`listening on ${url}`), 30_000);
    expect(run.stderr()).toContain(`expecting iss ${BASE_URL} and aud ${push.aud}`);

    const post = (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/secevent+jwt' }, body });
    const wrongAud = await post(foreign);
    expect(wrongAud.status).toBe(400);
    expect(((await wrongAud.json()) as { err: string }).err).toBe('invalid_audience');
    const wrongIss = await post(await resign(foreign, { aud: push.aud, iss: 'https://other-transmitter.example', jti: 'forged-iss' }));
    expect(wrongIss.status).toBe(400);
    expect(((await wrongIss.json()) as { err: string }).err).toBe('invalid_issuer');

    // The stream's own SET (pushed by the server) is accepted; --once then stops the receiver.
    await mkUser('recv-push-stream');
    const r = await finishedWithin(run, 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(ndjson(r.stdout)).toEqual([expect.objectContaining({ via: 'push', aud: [push.aud] })]);
    expect(r.stderr).toMatch(/1 accepted, 0 duplicate, 2 rejected/);
  }, 120_000);
});
