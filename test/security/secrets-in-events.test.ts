import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT, normalizeEventUri, ALL_SCIM_EVENT_URIS } from '../../src/events/uris.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { captureStderr, markersIn, newMarker } from '../helpers/leaks.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';
import { BULK_REQUEST, fcParams, PATCH_OP, USER } from './support.js';

/**
 * Values of `returned: never` attributes (RFC 7643 §7: a User's `password`) never leave scimcast
 * and never stay in it as cleartext: not in a SET of any event type or profile (stored, pushed or
 * polled), not in an async request's stored body once it is applied or given up, not in an
 * operation result, a response or a log line.
 *
 * Distinct random markers are planted as passwords through every operation shape: POST, PUT,
 * PATCH with a path (any casing, URN-qualified), PATCH without a path (the same keys), PATCHes of
 * the password alone, /Bulk synchronous and asynchronous, and single asynchronous requests (also
 * with `wait`, which answers inline), plus requests that fail (409, 404, 400, an asynchronous 409,
 * a request given up after its attempts, and two forced 500s). Other markers go into ordinary
 * attributes as controls: prov:*:full SETs must carry them, which shows that each channel is
 * really searched. fast-check draws the operation shapes and the casing of `password`; the first
 * run is an example with every shape. Four streams receive every SCIM event: poll and push (to a
 * loopback receiver), in the rfc9967 and draft-03 profiles. The app logs at trace into a sink and
 * the worker's stderr is captured (as in secrets-in-logs.test.ts).
 */

const SECRET = 'pwm';
const CONTROL = 'ctl';
const PREFIXES = [SECRET, CONTROL];
const PROFILES = ['rfc9967', 'draft-03'] as const;
type Profile = (typeof PROFILES)[number];
const PUSH = 'urn:ietf:rfc:8935';
const hex = () => randomBytes(6).toString('hex');

/** Planted secrets: none may be found anywhere. */
const secrets = new Set<string>();
/** Controls in attributes that prov:*:full SETs carry: each must be found in every SET channel. */
const fullControls = new Set<string>();
/** A control only an operation's error result carries: it must be found in txn_ops. */
const resultControls = new Set<string>();
const secret = () => {
  const m = newMarker(SECRET);
  secrets.add(m);
  return m;
};
const control = () => {
  const m = newMarker(CONTROL);
  fullControls.add(m);
  return m;
};

let t: TestApp;
let restoreStderr: () => void = () => {};
const appLog: string[] = [];
const stderrLog: string[] = [];
const responses: string[] = [];
const polled: Record<Profile, string[]> = { rfc9967: [], 'draft-03': [] };
const receivers = {} as Record<Profile, Receiver>;
const streams: { id: string; profile: Profile; push: boolean }[] = [];
/** Async requests not yet followed to their end. */
const asyncLocations: string[] = [];
/** Users whose only PATCH set the password alone. */
const passwordOnly: string[] = [];

/** Where markers were found: channel → marker → context. Texts are scanned once each (cursors). */
const found = new Map<string, Map<string, string>>();
const cursors = new Map<string, number>();
let lastSeq = 0;

function record(channel: string, where: string, text: string): void {
  const m = found.get(channel) ?? new Map<string, string>();
  found.set(channel, m);
  for (const [marker, context] of markersIn(text, PREFIXES)) if (!m.has(marker)) m.set(marker, `${where}: …${context}…`);
}

function scanNew(channel: string, list: readonly string[]): void {
  const from = cursors.get(channel) ?? 0;
  for (let i = from; i < list.length; i++) record(channel, `${channel} #${i}`, list[i]!);
  cursors.set(channel, list.length);
}

async function call(label: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await t.req(method, url, body, { headers });
  responses.push(`${label}: ${method} ${url} → ${res.statusCode}\n${JSON.stringify(res.headers)}\n${res.body}`);
  return res;
}

const patchOp = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

/** A PatchOp that sets the password through `key`, with a path or path-less, beside ordinary changes unless `only`. */
function passwordPatch(key: string, pathless: boolean, only: boolean) {
  const pw = secret();
  if (pathless) return patchOp({ op: 'replace', value: { [key]: pw, ...(only ? {} : { displayName: control(), active: true }) } });
  const others = only ? [] : [{ op: 'add', path: 'nickName', value: control() }, { op: 'replace', path: 'active', value: true }];
  return patchOp({ op: 'replace', path: key, value: pw }, ...others);
}

const userBody = (userName: string) => ({ schemas: [USER], userName, active: true, password: secret(), displayName: control(), name: { givenName: control() } });
/** A PUT that also deactivates (prov:deactivate); a later PATCH with active true activates. */
const putBody = (userName: string) => ({ schemas: [USER], userName, active: false, password: secret(), title: control() });

async function newUser(userName = `u-${hex()}`): Promise<{ id: string; userName: string }> {
  const res = await call('create', 'POST', '/scim/v2/Users', userBody(userName));
  expect(res.statusCode, res.body).toBe(201);
  return { id: res.json().id as string, userName };
}

function expectAccepted(res: { statusCode: number; body: string; headers: Record<string, unknown> }): void {
  expect(res.statusCode, res.body).toBe(202);
  asyncLocations.push(res.headers.location as string);
}

type Shape =
  | { kind: 'post' }
  | { kind: 'put' }
  | { kind: 'patch'; key: string; pathless: boolean; only: boolean }
  | { kind: 'bulk'; key: string; async: boolean }
  | { kind: 'async'; method: 'POST' | 'PUT' | 'PATCH' | 'DELETE'; key: string; pathless: boolean; wait: boolean }
  | { kind: 'error'; which: 'conflict' | 'not-found' | 'bad-patch' | 'async-conflict' };

async function runShape(s: Shape): Promise<void> {
  switch (s.kind) {
    case 'post':
      await newUser();
      return;
    case 'put': {
      const u = await newUser();
      const r = await call('put', 'PUT', `/scim/v2/Users/${u.id}`, putBody(u.userName));
      expect(r.statusCode, r.body).toBe(200);
      return;
    }
    case 'patch': {
      const u = await newUser();
      const r = await call('patch', 'PATCH', `/scim/v2/Users/${u.id}`, passwordPatch(s.key, s.pathless, s.only));
      expect(r.statusCode, r.body).toBe(200);
      if (s.only) passwordOnly.push(u.id);
      return;
    }
    case 'bulk': {
      const u = await newUser();
      const body = {
        schemas: [BULK_REQUEST],
        Operations: [
          { method: 'POST', bulkId: 'b1', path: '/Users', data: userBody(`b-${hex()}`) },
          { method: 'PUT', path: `/Users/${u.id}`, data: putBody(u.userName) },
          { method: 'PATCH', path: `/Users/${u.id}`, data: passwordPatch(s.key, false, false) },
          { method: 'PATCH', path: `/Users/${u.id}`, data: passwordPatch(s.key, true, false) },
        ],
      };
      const r = await call('bulk', 'POST', '/scim/v2/Bulk', body, s.async ? { prefer: 'respond-async' } : {});
      if (s.async) return expectAccepted(r);
      expect(r.statusCode, r.body).toBe(200);
      expect((r.json().Operations as { status: string }[]).map((o) => Number(o.status) < 300), r.body).toEqual([true, true, true, true]);
      return;
    }
    case 'async': {
      const prefer = s.wait ? 'respond-async, wait=10' : 'respond-async';
      let r;
      if (s.method === 'POST') r = await call('async post', 'POST', '/scim/v2/Users', userBody(`a-${hex()}`), { prefer });
      else {
        const u = await newUser();
        const path = `/scim/v2/Users/${u.id}`;
        if (s.method === 'PUT') r = await call('async put', 'PUT', path, putBody(u.userName), { prefer });
        else if (s.method === 'PATCH') r = await call('async patch', 'PATCH', path, passwordPatch(s.key, s.pathless, false), { prefer });
        else r = await call('async delete', 'DELETE', path, undefined, { prefer });
      }
      // With wait=N a run that finishes in time answers like the synchronous request.
      if (r.statusCode === 202) return expectAccepted(r);
      expect(s.wait, r.body).toBe(true);
      expect(r.statusCode, r.body).toBeLessThan(300);
      return;
    }
    case 'error':
      return runError(s.which);
  }
}

async function runError(which: Extract<Shape, { kind: 'error' }>['which']): Promise<void> {
  if (which === 'not-found') {
    const r = await call('patch unknown user', 'PATCH', `/scim/v2/Users/${randomUUID()}`, passwordPatch('password', false, true));
    expect(r.statusCode, r.body).toBe(404);
    return;
  }
  if (which === 'async-conflict') {
    // The 409's detail names the userName: a control that only the operation's result carries.
    const name = newMarker(CONTROL);
    resultControls.add(name);
    await newUser(name);
    return expectAccepted(await call('async conflict', 'POST', '/scim/v2/Users', { schemas: [USER], userName: name, password: secret() }, { prefer: 'respond-async' }));
  }
  const u = await newUser();
  if (which === 'conflict') {
    const r = await call('conflict', 'POST', '/scim/v2/Users', { schemas: [USER], userName: u.userName, password: secret() });
    expect(r.statusCode, r.body).toBe(409);
  } else {
    const r = await call('bad patch', 'PATCH', `/scim/v2/Users/${u.id}`, patchOp({ op: 'replace', path: 'password', value: secret() }, { op: 'explode', path: 'title', value: secret() }));
    expect(r.statusCode, r.body).toBe(400);
  }
}

/** `password` in any casing, alone or qualified by the User schema URN (itself in any casing). */
const anyCase = (s: string) => fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));
const passwordKey = fc.oneof(anyCase('password'), fc.tuple(fc.constantFrom(USER, USER.toUpperCase()), anyCase('password')).map(([urn, p]) => `${urn}:${p}`));

const shapeArb: fc.Arbitrary<Shape> = fc.oneof(
  fc.constant<Shape>({ kind: 'post' }),
  fc.constant<Shape>({ kind: 'put' }),
  fc.record({ kind: fc.constant('patch' as const), key: passwordKey, pathless: fc.boolean(), only: fc.boolean() }),
  fc.record({ kind: fc.constant('bulk' as const), key: passwordKey, async: fc.boolean() }),
  fc.record({ kind: fc.constant('async' as const), method: fc.constantFrom('POST' as const, 'PUT' as const, 'PATCH' as const, 'DELETE' as const), key: passwordKey, pathless: fc.boolean(), wait: fc.boolean() }),
  fc.record({ kind: fc.constant('error' as const), which: fc.constantFrom('conflict' as const, 'not-found' as const, 'bad-patch' as const, 'async-conflict' as const) }),
);

const U_PW = `${USER}:password`;
/** The first run: every shape at least once. */
const EVERY_SHAPE: Shape[] = [
  { kind: 'post' },
  { kind: 'put' },
  { kind: 'patch', key: 'password', pathless: false, only: false },
  { kind: 'patch', key: 'PassWord', pathless: true, only: false },
  { kind: 'patch', key: U_PW, pathless: false, only: false },
  { kind: 'patch', key: `${USER.toUpperCase()}:PASSWORD`, pathless: true, only: false },
  { kind: 'patch', key: 'PASSWORD', pathless: false, only: true },
  { kind: 'patch', key: U_PW, pathless: true, only: true },
  { kind: 'bulk', key: 'Password', async: false },
  { kind: 'bulk', key: U_PW, async: true },
  { kind: 'async', method: 'POST', key: 'password', pathless: false, wait: false },
  { kind: 'async', method: 'PUT', key: 'password', pathless: false, wait: true },
  { kind: 'async', method: 'PATCH', key: 'pASSWORD', pathless: true, wait: false },
  { kind: 'async', method: 'PATCH', key: U_PW, pathless: false, wait: true },
  { kind: 'async', method: 'DELETE', key: 'password', pathless: false, wait: false },
  { kind: 'error', which: 'conflict' },
  { kind: 'error', which: 'not-found' },
  { kind: 'error', which: 'bad-patch' },
  { kind: 'error', which: 'async-conflict' },
];

/** Follow every async request to its end (status resource, also as SETs), let pushes land, drain the poll streams. */
async function settle(): Promise<void> {
  for (const location of asyncLocations.splice(0)) {
    const path = new URL(location).pathname;
    await until(async () => ['completed', 'failed'].includes((await t.req('GET', path)).json().status as string), 45_000);
    await call('status', 'GET', path);
    await call('status as SETs', 'GET', path, undefined, { accept: 'application/secevent+jwt' });
  }
  await call('async list', 'GET', '/scim/v2/AsyncRequests');
  await until(async () => {
    const { rows } = await t.database.pool.query<{ n: number }>(`select count(*)::int as n from events e join feeds f on f.id = e.feed_id where f.delivery_method = $1 and e.state = 'pending'`, [PUSH]);
    return rows[0]!.n === 0;
  }, 45_000);
  for (const s of streams.filter((x) => !x.push)) {
    let ack: string[] = [];
    for (;;) {
      const r = await call(`poll ${s.profile}`, 'POST', `/ssf/streams/${s.id}/poll`, { ack, maxEvents: 500, returnImmediately: true });
      expect(r.statusCode, r.body).toBe(200);
      polled[s.profile].push(r.body);
      const jtis = Object.keys(r.json().sets as Record<string, string>);
      if (jtis.length === 0) break;
      ack = jtis;
    }
  }
}

/** Scan everything new: stored SETs, pushed and polled SETs, txn rows, resources, jobs, responses, logs. */
async function scan(): Promise<void> {
  const q = async (sql: string, params: unknown[] = []) => (await t.database.pool.query<{ k: string; v: string }>(sql, params)).rows;
  for (const r of await q(`select seq::text as k, jws as v from events where seq > $1 order by seq`, [lastSeq])) {
    record('stored SETs', `events seq ${r.k}`, r.v);
    lastSeq = Math.max(lastSeq, Number(r.k));
  }
  // Rows that change (a request body is dropped when it finishes) are scanned whole each time.
  found.delete('txns');
  found.delete('txn_ops');
  for (const r of await q(`select id as k, row_to_json(x)::text as v from txns x`)) record('txns', `txn ${r.k}`, r.v);
  for (const r of await q(`select txn_id || ':' || op_index as k, row_to_json(x)::text as v from txn_ops x`)) record('txn_ops', `txn_op ${r.k}`, r.v);
  for (const r of await q(`select id::text as k, doc::text as v from resources`)) record('resources', `resource ${r.k}`, r.v);
  for (const r of await q(`select id::text as k, payload::text as v from graphile_worker._private_jobs`)) record('jobs', `job ${r.k}`, r.v);
  for (const p of PROFILES) {
    scanNew(`pushed ${p}`, receivers[p].received.map((x) => x.body));
    scanNew(`polled ${p}`, polled[p]);
  }
  scanNew('responses', responses);
  scanNew('app log', appLog);
  scanNew('worker stderr', stderrLog);
}

function leaks(): string[] {
  const out: string[] = [];
  for (const [channel, markers] of found) for (const [m, where] of markers) if (secrets.has(m)) out.push(`${channel}: ${where.replace(m, '<secret>')}`);
  return out;
}

async function run(plan: Shape[]): Promise<void> {
  for (const s of plan) await runShape(s);
  await settle();
  await scan();
  expect(leaks()).toEqual([]);
  const { rows } = await t.database.pool.query(`select id, status from txns where status in ('completed', 'failed') and request is not null`);
  expect(rows, 'a finished async request kept its body').toEqual([]);
}

/** Operations that fail on purpose: given up after its attempts, and two forced 500s. */
async function failures(): Promise<void> {
  const db = t.database.pool;
  // 1. Every attempt of the job fails on a database error (SCIMCAST_ASYNC_MAX_ATTEMPTS=1): given up.
  await db.query(`alter table resources add constraint secrets_probe_doomed check (user_name is null or user_name not like 'doomed-%') not valid`);
  expectAccepted(await call('doomed async', 'POST', '/scim/v2/Users', { schemas: [USER], userName: `doomed-${hex()}`, password: secret() }, { prefer: 'respond-async' }));
  const doomed = asyncLocations.at(-1)!;
  await settle();
  expect((await t.req('GET', new URL(doomed).pathname)).json()).toMatchObject({ status: 'failed', operations: [{ status: '500' }] });
  // 2. Admission fails (the request body is a bound value of the failed insert).
  await db.query(`alter table txns add constraint secrets_probe_admission check (op_count <> 7) not valid`);
  try {
    const ops = Array.from({ length: 7 }, (_, i) => ({ method: 'POST', bulkId: `x${i}`, path: '/Users', data: { schemas: [USER], userName: `x-${hex()}`, password: secret() } }));
    const r = await call('admission fails', 'POST', '/scim/v2/Bulk', { schemas: [BULK_REQUEST], Operations: ops }, { prefer: 'respond-async' });
    expect(r.statusCode, r.body).toBe(500);
  } finally {
    await db.query('alter table txns drop constraint secrets_probe_admission');
  }
  // 3. Recording the change fails (its outbox row, data included, is a bound value of the failed insert).
  const u = await newUser();
  await db.query(`alter table changes add constraint secrets_probe_changes check (subject_uri <> '/Users/${u.id}') not valid`);
  try {
    const r = await call('change insert fails', 'PATCH', `/scim/v2/Users/${u.id}`, passwordPatch('password', false, true));
    expect(r.statusCode, r.body).toBe(500);
  } finally {
    await db.query('alter table changes drop constraint secrets_probe_changes');
  }
  // 4. Storing the SETs fails in the worker's fan-out (their JWS are bound values of the failed
  // insert), which logs the failure and tries again until it succeeds.
  await db.query(`alter table events add constraint secrets_probe_events check (subject_uri <> '/Users/${u.id}' or event_uri not like '%:patch:%') not valid`);
  try {
    const r = await call('SET insert fails', 'PATCH', `/scim/v2/Users/${u.id}`, passwordPatch('password', false, true));
    expect(r.statusCode, r.body).toBe(200);
    await until(() => stderrLog.some((l) => l.includes('"source":"fanout"')), 15_000);
  } finally {
    await db.query('alter table events drop constraint secrets_probe_events');
  }
}

beforeAll(async () => {
  restoreStderr = captureStderr(stderrLog);
  for (const p of PROFILES) receivers[p] = await startReceiver();
  t = await startTestApp(
    { LOG_LEVEL: 'trace', SCIMCAST_ASYNC_MAX_ATTEMPTS: '1', SCIMCAST_PUSH_BACKOFF_BASE_MS: '50', SCIMCAST_PUSH_BACKOFF_CAP_MS: '200' },
    { worker: true, logStream: { write: (line) => void appLog.push(line) } },
  );
  for (const profile of PROFILES) {
    for (const push of [false, true]) {
      const delivery = push ? { method: PUSH, endpoint_url: receivers[profile].url } : { method: 'urn:ietf:rfc:8936' };
      const r = await call('stream', 'POST', '/ssf/streams', { delivery, events_requested: ALL_SCIM_EVENT_URIS, profile });
      expect(r.statusCode, r.body).toBe(201);
      streams.push({ id: r.json().stream_id as string, profile, push });
    }
  }
  // feed:add and feed:remove (RFC 9967 §2.3) on every stream.
  const u = await newUser();
  for (const s of streams) {
    for (const op of ['add', 'remove']) {
      const r = await call(`subject ${op}`, 'POST', `/ssf/subjects/${op}`, { stream_id: s.id, subject: { format: 'scim', uri: `/Users/${u.id}` } });
      expect(r.statusCode, r.body).toBeLessThan(300);
    }
  }
  await failures();
}, 180_000);

afterAll(async () => {
  restoreStderr();
  await t?.close();
  for (const p of PROFILES) await receivers[p]?.close();
});

describe('returned:never values in no SET, stored request, result, response or log line', () => {
  it('property: whatever the operation shape and the spelling of password, no planted secret is found anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(shapeArb, { minLength: 2, maxLength: 6 }), async (plan) => run(plan)),
      { ...fcParams(5, 50), examples: [[EVERY_SHAPE]] },
    );
  }, 600_000);

  it('the search is live: every control reached every SET channel, the error-result control reached txn_ops, and both logs were read', () => {
    const channels = ['stored SETs', ...PROFILES.flatMap((p) => [`pushed ${p}`, `polled ${p}`])];
    for (const channel of channels) {
      const missing = [...fullControls].filter((c) => !found.get(channel)?.has(c));
      expect(missing, `controls missing from ${channel}`).toEqual([]);
    }
    const inResults = [...resultControls].filter((c) => found.get('txn_ops')?.has(c));
    expect(inResults.length).toBe(resultControls.size);
    expect(resultControls.size).toBeGreaterThan(0);
    expect(appLog.filter((l) => l.includes('"incoming request"')).length).toBeGreaterThanOrEqual(responses.length);
    expect(appLog.some((l) => l.includes('"unhandled error"'))).toBe(true);
    expect(stderrLog.some((l) => l.includes('"worker"'))).toBe(true);
    expect(secrets.size).toBeGreaterThan(50);
  });

  it('every SCIM event type was searched, in both profiles', async () => {
    const { rows } = await t.database.pool.query<{ jws: string; profile: Profile }>(`select e.jws, f.profile from events e join feeds f on f.id = e.feed_id`);
    const seen: Record<Profile, Set<string>> = { rfc9967: new Set(), 'draft-03': new Set() };
    for (const r of rows) {
      const claims = JSON.parse(Buffer.from(r.jws.split('.')[1]!, 'base64url').toString('utf8')) as { events: Record<string, unknown> };
      for (const uri of Object.keys(claims.events)) seen[r.profile].add(normalizeEventUri(uri));
    }
    for (const p of PROFILES) expect([...seen[p]].sort(), p).toEqual([...ALL_SCIM_EVENT_URIS].sort());
  });

  it('a PATCH of the password alone sends prov:patch:notice naming password, and no prov:patch:full (no valid PatchOp is left)', async () => {
    expect(passwordOnly.length).toBeGreaterThan(0);
    for (const id of passwordOnly) {
      const { rows } = await t.database.pool.query<{ jws: string }>(`select jws from events where subject_uri = $1 and event_uri in ($2, $3)`, [`/Users/${id}`, EVENT.patchFull, EVENT.patchNotice]);
      const payloads = rows.map((r) => JSON.parse(Buffer.from(r.jws.split('.')[1]!, 'base64url').toString('utf8')) as { events: Record<string, { attributes?: string[] }> });
      const uris = payloads.flatMap((c) => Object.keys(c.events).map(normalizeEventUri));
      expect(uris, id).toEqual(streams.map(() => EVENT.patchNotice));
      for (const c of payloads) expect(Object.values(c.events)[0]!.attributes).toEqual(['password']);
    }
  });
});
