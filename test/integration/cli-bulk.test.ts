import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/storage/embedded.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/receiver.js';

/**
 * `scimcast bulk import FILE` as a user runs it (bin/scimcast.js in a child
 * process, SCIMCAST_URL / SCIMCAST_TOKEN) against a listening scimcast with small bulk limits, so
 * every import spans many requests and group members are created in earlier requests than the
 * groups (which the files list first). Each outcome is checked in the database: every externalId
 * once, every group with exactly the members its row lists.
 */
const ROOT = join(import.meta.dirname, '../..');
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const HEADER = 'type,externalId,userName,displayName,givenName,familyName,email,members';
const dir = mkdtempSync(join(tmpdir(), 'scimcast-bulk-'));

let t: TestApp;
let scimBase: string;
const children: ChildProcess[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  // The public URL is the listening one: async Locations point where the client can follow them.
  const port = await freePort();
  t = await startTestApp(
    { BASE_URL: `http://127.0.0.1:${port}`, SCIMCAST_BULK_MAX_OPERATIONS: '1000', SCIMCAST_BULK_MAX_PAYLOAD_SIZE: String(512 * 1024) },
    { worker: true },
  );
  await t.app.listen({ port, host: '127.0.0.1' });
  scimBase = `http://127.0.0.1:${port}/scim/v2`;
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await t?.close();
});

// ---- helpers --------------------------------------------------------------------------------

export interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function bulkImport(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, ['bin/scimcast.js', 'bulk', 'import', ...args], {
    cwd: ROOT,
    env: { ...process.env, SCIMCAST_URL: scimBase, SCIMCAST_TOKEN: t.token, LOG_LEVEL: 'silent', ...env },
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

async function finished(r: Run) {
  const code = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

const report = (r: { stdout: string }) => JSON.parse(r.stdout) as Record<string, any>;

interface Dataset {
  file: string;
  users: string[];
  /** group externalId → member externalIds */
  groups: Map<string, string[]>;
}

/**
 * `nUsers` users and `nGroups` groups of `perGroup` users spread over the whole file (so over
 * many requests); the last groups also contain the first ones (nested groups). Groups come first.
 */
function dataset(prefix: string, nUsers: number, nGroups: number, perGroup: number): Dataset {
  const users = Array.from({ length: nUsers }, (_, i) => `${prefix}-u${i}`);
  const groups = new Map<string, string[]>();
  for (let g = 0; g < nGroups; g++) {
    const members: string[] = [];
    for (let k = 0; k < perGroup; k++) members.push(users[(g * 7919 + k * Math.floor(nUsers / perGroup)) % nUsers]!);
    if (g >= nGroups - 5) members.push(`${prefix}-g${g - (nGroups - 5)}`);
    groups.set(`${prefix}-g${g}`, [...new Set(members)]);
  }
  const lines = [HEADER];
  for (const [g, ms] of groups) lines.push(`group,${g},,Group ${g},,,,${ms.join(';')}`);
  users.forEach((u, i) => lines.push(`user,${u},${u}@example.com,User ${i},Given${i},Family${i},${u}@example.com,`));
  return { file: writeCsv(prefix, lines), users, groups };
}

function writeCsv(name: string, lines: string[]): string {
  const file = join(dir, `${name}.csv`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** What the server holds for externalIds `<prefix>-…`, straight from PostgreSQL. */
async function dbState(prefix: string, app: TestApp = t) {
  const pool = app.database.pool;
  const like = `${prefix}-%`;
  const dup = await pool.query(`select external_id, count(*)::int n from resources where external_id like $1 group by external_id having count(*) > 1`, [like]);
  const dupNames = await pool.query(`select user_name, count(*)::int n from resources where user_name like $1 group by user_name having count(*) > 1`, [like]);
  const counts = await pool.query(`select resource_type t, count(*)::int n from resources where external_id like $1 group by resource_type`, [like]);
  const members = await pool.query(
    `select g.external_id g, m.external_id m from group_members gm join resources g on g.id = gm.group_id join resources m on m.id = gm.member_id where g.external_id like $1`,
    [like],
  );
  const byGroup = new Map<string, string[]>();
  for (const r of members.rows as { g: string; m: string }[]) byGroup.set(r.g, [...(byGroup.get(r.g) ?? []), r.m]);
  return {
    duplicates: [...dup.rows, ...dupNames.rows],
    counts: Object.fromEntries((counts.rows as { t: string; n: number }[]).map((r) => [r.t, r.n])),
    byGroup,
  };
}

/** Every externalId once, every group with exactly its row's members. */
async function expectImported(ds: Dataset, app: TestApp = t) {
  const s = await dbState(ds.file.replace(/^.*\/|\.csv$/g, ''), app);
  expect(s.duplicates).toEqual([]);
  expect(s.counts).toEqual({ User: ds.users.length, Group: ds.groups.size });
  for (const [g, ms] of ds.groups) expect([...(s.byGroup.get(g) ?? [])].sort(), g).toEqual([...ms].sort());
}

const journalLines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, any>)
    : [];

type ProxyAction = 'pass' | 'hold' | { answer: number; headers?: Record<string, string> } | { forwardThen: number };

/**
 * A loopback HTTP proxy in front of scimcast; `decide(req, n)` picks what happens to request n:
 * - `pass`: forwarded, and the answer passed back;
 * - `hold`: forwarded, and the answer never sent: the server applied it, the client never learns
 *   it (a connection that dies after the commit);
 * - `{answer}`: answered by the proxy without forwarding (a throttling gateway);
 * - `{forwardThen}`: forwarded, then answered with that status instead (a gateway timing out
 *   after the server did the work).
 */
async function startProxy(target: string, decide: (req: IncomingMessage, n: number) => ProxyAction) {
  const to = new URL(target);
  const held: { url: string; status: number }[] = [];
  const statuses: number[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    const action = decide(req, ++n);
    if (typeof action === 'object' && 'answer' in action) {
      statuses.push(action.answer);
      req.resume();
      res.writeHead(action.answer, { 'content-type': 'text/plain', ...action.headers }).end('proxy says no');
      return;
    }
    const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        if (action === 'hold') return void held.push({ url: req.url ?? '', status: answer.statusCode ?? 0 });
        const status = typeof action === 'object' ? action.forwardThen : (answer.statusCode ?? 502);
        statuses.push(status);
        if (typeof action === 'object') return void res.writeHead(status, { 'content-type': 'text/plain' }).end('gateway trouble');
        // Like a reverse proxy's redirect rewriting: the async Location names the proxy.
        const headers = { ...answer.headers };
        if (typeof headers.location === 'string') headers.location = headers.location.replace(to.origin, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
        res.writeHead(status, headers);
        res.end(Buffer.concat(chunks));
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${to.pathname}`, held, statuses };
}

const isBulk = (req: IncomingMessage) => req.method === 'POST' && /\/Bulk$/.test(req.url ?? '');

// ---- the tests ------------------------------------------------------------------------------

describe('scimcast bulk import (CSV, synchronous Bulk)', () => {
  it('imports 20,000 rows, groups before their members, references across request boundaries', async () => {
    const ds = dataset('big', 19_000, 1_000, 40);
    const r = await finished(bulkImport([ds.file, '--json', '--journal', join(dir, 'big.journal')]));
    expect(r.code, r.stderr).toBe(0);
    const rep = report(r);
    expect(rep).toMatchObject({ created: 20_000, updated: 0, failed: 0, skipped: 0, total: 20_000, mode: 'bulk', async: false, failures: [] });
    expect(rep.users).toEqual({ created: 19_000, updated: 0, failed: 0 });
    expect(rep.groups).toEqual({ created: 1_000, updated: 0, failed: 0 });
    // maxOperations 1000 (users), maxPayloadSize 512 KiB (groups of 40 members): many requests, none refused (a 413 would show as retries).
    expect(rep.batches).toBeGreaterThanOrEqual(20);
    expect(rep.retries).toBe(0);
    // Not a terminal: plain progress lines on stderr.
    expect(r.stderr).toMatch(/^progress: 100%  20,000\/20,000  created 20,000, updated 0, failed 0/m);
    // Several requests at once (--concurrency defaults to 4).
    expect(r.stderr).toMatch(/, 4 in flight\)/);
    await expectImported(ds);

    // The SCIM API shows the same: a nested group lists its users and its member group by id.
    const get = async (type: string, x: string) => (await t.req('GET', `/scim/v2/${type}?filter=${encodeURIComponent(`externalId eq "${x}"`)}`)).json().Resources as any[];
    const last = 'big-g999';
    const [group] = await get('Groups', last);
    const ids = await Promise.all(ds.groups.get(last)!.map(async (x) => (await get(x.includes('-g') ? 'Groups' : 'Users', x))[0].id as string));
    expect((group.members as { value: string }[]).map((m) => m.value).sort()).toEqual(ids.sort());
  }, 60_000);
});

describe('crash and resume', () => {
  it('SIGKILL while a Bulk request was applied but unanswered; the rerun with --journal neither duplicates nor skips', async () => {
    const ds = dataset('crash', 1_400, 100, 20);
    const journal = join(dir, 'crash.journal');
    let bulks = 0;
    // The 4th Bulk request reaches the server and is committed; its answer never comes back.
    const proxy = await startProxy(scimBase, (req) => (isBulk(req) && ++bulks === 4 ? 'hold' : 'pass'));
    const first = bulkImport([ds.file, '--json', '--journal', journal, '--concurrency', '1', '--max-operations', '250'], { SCIMCAST_URL: proxy.url });
    await until(() => proxy.held.length === 1, 30_000);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    expect(proxy.held[0]!.status).toBe(200);

    // Killed mid-import: three requests' worth journaled as done, the fourth only as "sent",
    // and 1,000 users on the server (the fourth request's too).
    const before = journalLines(journal);
    expect(before.filter((l) => l.s === 'done')).toHaveLength(750);
    expect(before.filter((l) => l.sent).flatMap((l) => l.sent)).toHaveLength(1_000);
    expect((await dbState('crash')).counts).toEqual({ User: 1_000 });
    expect(existsSync(`${journal}.lock`)).toBe(true); // left behind by the dead process

    const second = await finished(bulkImport([ds.file, '--json', '--journal', journal, '--concurrency', '2', '--max-operations', '250'], { SCIMCAST_URL: proxy.url }));
    expect(second.code, second.stderr).toBe(0);
    const rep = report(second);
    // The creations of the first run count: the report is the whole file's.
    expect(rep).toMatchObject({ created: 1_500, updated: 0, failed: 0, skipped: 0, total: 1_500, resumed: 750 });
    await expectImported(ds);
    expect(existsSync(`${journal}.lock`)).toBe(false);
  }, 60_000);

  it('a rerun of the finished import with a fresh journal finds every externalId and replaces instead of duplicating', async () => {
    const ds = dataset('crash', 1_400, 100, 20); // the same file as above
    const r = await finished(bulkImport([ds.file, '--json', '--journal', join(dir, 'crash-again.journal')]));
    expect(r.code, r.stderr).toBe(0);
    expect(report(r)).toMatchObject({ created: 0, updated: 1_500, failed: 0, skipped: 0, resumed: 0 });
    await expectImported(ds);
  }, 60_000);

  it('Ctrl-C (SIGINT) with a request that never answers: --timeout ends it, the report says skipped, the rerun finishes', async () => {
    const ds = dataset('int', 1_900, 100, 20);
    const journal = join(dir, 'int.journal');
    let bulks = 0;
    const proxy = await startProxy(scimBase, (req) => (isBulk(req) && ++bulks === 3 ? 'hold' : 'pass'));
    const args = [ds.file, '--json', '--journal', journal, '--concurrency', '1', '--max-operations', '250', '--timeout', '2'];
    const first = bulkImport(args, { SCIMCAST_URL: proxy.url });
    await until(() => proxy.held.length === 1, 30_000);
    first.child.kill('SIGINT');
    const stopped = await finished(first);
    expect(stopped.code, stopped.stderr).toBe(1);
    expect(stopped.stderr).toMatch(/stopping after the requests in flight/);
    // Two requests answered; the third timed out (applied, unanswered); the rest never started.
    expect(report(stopped)).toMatchObject({ created: 500, failed: 0, skipped: 1_500 });
    expect((await dbState('int')).counts).toEqual({ User: 750 });

    const second = await finished(bulkImport(args, { SCIMCAST_URL: proxy.url }));
    expect(second.code, second.stderr).toBe(0);
    expect(report(second)).toMatchObject({ created: 2_000, updated: 0, failed: 0, skipped: 0, resumed: 500 });
    await expectImported(ds);
  }, 60_000);
});

describe('--async', () => {
  it('sends Prefer: respond-async, follows every Set-Txn to its end, and reports as a synchronous import does', async () => {
    const syncSet = dataset('sync', 2_850, 150, 20);
    const asyncSet = dataset('async', 2_850, 150, 20);
    const startedAt = new Date();
    const [a, s] = await Promise.all([
      finished(bulkImport([asyncSet.file, '--json', '--async', '--max-operations', '500', '--journal', join(dir, 'async.journal')])),
      finished(bulkImport([syncSet.file, '--json', '--max-operations', '500', '--journal', join(dir, 'sync.journal')])),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(s.code, s.stderr).toBe(0);
    const ra = report(a);
    const rs = report(s);
    const counts = (x: Record<string, any>) => ({ created: x.created, updated: x.updated, failed: x.failed, skipped: x.skipped, total: x.total, users: x.users, groups: x.groups, failures: x.failures });
    expect(counts(ra)).toEqual(counts(rs));
    expect(ra).toMatchObject({ created: 3_000, failed: 0, async: true });
    expect(rs.txns).toEqual([]);

    // Every asynchronous request the server accepted for the import (its Set-Txn) was followed to the end.
    const { rows } = await t.database.pool.query<{ id: string; status: string; op_count: number }>(
      `select id, status, op_count from txns where kind = 'bulk' and created_at >= $1`,
      [startedAt],
    );
    expect(rows.length).toBeGreaterThanOrEqual(6);
    expect([...ra.txns].sort()).toEqual(rows.map((r) => r.id).sort());
    expect(rows.every((r) => r.status === 'completed')).toBe(true);
    expect(rows.reduce((n, r) => n + r.op_count, 0)).toBe(3_000);
    const txnDone = journalLines(join(dir, 'async.journal')).filter((l) => l.txnDone).map((l) => l.txnDone);
    expect(txnDone.sort()).toEqual([...ra.txns].sort());
    await expectImported(asyncSet);
    await expectImported(syncSet);
  }, 60_000);

  it('killed while following accepted requests: the rerun follows the journaled Set-Txns to their end first', async () => {
    const ds = dataset('acr', 1_900, 100, 20);
    const journal = join(dir, 'acr.journal');
    const startedAt = new Date();
    let holding = true;
    // Status polls get no answer while `holding`: the import is stuck between 202 and completion.
    const proxy = await startProxy(scimBase, (req) => (holding && req.method === 'GET' && /\/AsyncRequests\//.test(req.url ?? '') ? 'hold' : 'pass'));
    const args = [ds.file, '--json', '--async', '--journal', journal, '--concurrency', '2', '--max-operations', '500'];
    const first = bulkImport(args, { SCIMCAST_URL: proxy.url });
    await until(() => proxy.held.length >= 2, 30_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const pending = journalLines(journal).filter((l) => l.txn).map((l) => l.txn as string);
    expect(pending).toHaveLength(2);
    expect(journalLines(journal).filter((l) => l.txnDone)).toEqual([]);

    holding = false;
    const second = await finished(bulkImport(args, { SCIMCAST_URL: proxy.url }));
    expect(second.code, second.stderr).toBe(0);
    const rep = report(second);
    expect(rep).toMatchObject({ created: 2_000, updated: 0, failed: 0, skipped: 0, async: true });
    expect(rep.txns).toEqual(expect.arrayContaining(pending));
    const { rows } = await t.database.pool.query<{ id: string; status: string }>(`select id, status from txns where kind = 'bulk' and created_at >= $1`, [startedAt]);
    expect([...rep.txns].sort()).toEqual(rows.map((r) => r.id).sort());
    expect(rows.every((r) => r.status === 'completed')).toBe(true);
    await expectImported(ds);
  }, 60_000);
});

describe('a server without Bulk', () => {
  it('falls back to one request per resource when POST /Bulk answers 501', async () => {
    const ds = dataset('one', 190, 10, 5);
    const proxy = await startProxy(scimBase, (req) => (isBulk(req) ? { answer: 501 } : 'pass'));
    const r = await finished(bulkImport([ds.file, '--json', '--journal', join(dir, 'one.journal')], { SCIMCAST_URL: proxy.url }));
    expect(r.code, r.stderr).toBe(0);
    expect(report(r)).toMatchObject({ created: 200, failed: 0, mode: 'single' });
    // Only the Bulk requests already in flight (--concurrency 4) saw the 501; nothing was lost.
    expect(proxy.statuses.filter((s) => s === 501).length).toBeLessThanOrEqual(4);
    await expectImported(ds);
  }, 60_000);
});

describe('rejected rows and --fail-on-errors', () => {
  it('reports each row the server rejects as failed with the reason; groups listing it fail too', async () => {
    await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'rej-taken@example.com' });
    const file = writeCsv('rej', [
      HEADER,
      'group,rej-g1,,Has a rejected member,,,,rej-u1;rej-u2',
      'group,rej-g2,,Fine,,,,rej-u0;rej-u3',
      'user,rej-u0,rej-u0@example.com,,,,,',
      'user,rej-u1,rej-taken@example.com,,,,,',
      'user,rej-u2,rej-u2@example.com,,,,,',
      'user,rej-u3,rej-u3@example.com,,,,,',
      'user,rej-u4,rej-u3@example.com,,,,,',
      'robot,rej-x,,,,,,',
    ]);
    const r = await finished(bulkImport([file, '--json', '--fail-on-errors', '10']));
    expect(r.code).toBe(1);
    const rep = report(r);
    expect(rep).toMatchObject({ created: 4, updated: 0, failed: 4, skipped: 0, total: 8 });
    const byId = Object.fromEntries((rep.failures as any[]).map((f) => [f.externalId, f]));
    expect(byId['rej-u1']).toMatchObject({ line: 5, type: 'user', status: 409, scimType: 'uniqueness', reason: expect.stringMatching(/userName/) });
    expect(byId['rej-g1']).toMatchObject({ line: 2, type: 'group', reason: expect.stringMatching(/member 'rej-u1' could not be imported \(line 5\)/) });
    expect(byId['rej-x']).toMatchObject({ line: 9, reason: expect.stringMatching(/type must be 'user' or 'group'/) });
    // rej-u3 and rej-u4 share a userName: whichever the server took, the other is the failure.
    const loser = byId['rej-u4'] ?? byId['rej-u3'];
    expect(loser).toMatchObject({ status: 409, scimType: 'uniqueness' });
    expect(rep.failures).toHaveLength(4);

    // The text report names them too.
    const text = await finished(bulkImport([file, '--fail-on-errors', '10', '--quiet', '--journal', join(dir, 'rej-text.journal')]));
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/failed +4 /);
    expect(text.stdout).toMatch(/line 5 user rej-u1: 409 uniqueness: /);
  }, 60_000);

  it('--fail-on-errors N stops after N failures; what was not attempted is reported as skipped', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 200; i++) lines.push(`user,foe-u${i},${i % 10 === 3 ? 'foe-same' : `foe-u${i}`}@example.com,,,,,`);
    const file = writeCsv('foe', lines);
    const r = await finished(bulkImport([file, '--json', '--fail-on-errors', '2', '--max-operations', '20', '--concurrency', '1']));
    expect(r.code).toBe(1);
    const rep = report(r);
    expect(rep.failed).toBeGreaterThanOrEqual(2);
    expect(rep.skipped).toBeGreaterThan(0);
    expect(rep.created + rep.failed + rep.skipped).toBe(200);
    expect(rep.failures.every((f: any) => f.status === 409)).toBe(true);
    const { rows } = await t.database.pool.query(`select count(*)::int n from resources where external_id like 'foe-%'`);
    expect(rows[0].n).toBe(rep.created);
  }, 60_000);
});

describe('usage errors', () => {
  it('a refused token stops the import before anything is written, with the reason', async () => {
    const file = writeCsv('tok', [HEADER, 'user,tok-u1,tok-u1,,,,,']);
    const r = await finished(bulkImport([file, '--json'], { SCIMCAST_TOKEN: 'not-a-token' }));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^scimcast bulk: the server refused the token \(401\): /m);
    expect((await dbState('tok')).counts).toEqual({});
  });
});

describe('NDJSON', () => {
  it('imports SCIM resources with members by externalId and by bulkId', async () => {
    const file = join(dir, 'nd.ndjson');
    const lines = [
      { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], externalId: 'nd-g1', displayName: 'ND one', members: [{ externalId: 'nd-u1' }, { value: 'bulkId:nd-g2', type: 'Group' }] },
      { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], externalId: 'nd-g2', displayName: 'ND two', members: [{ value: 'bulkId:nd-u2' }] },
      { schemas: [USER], externalId: 'nd-u1', userName: 'nd-u1', name: { givenName: 'Nd', familyName: 'One' }, active: true },
      { schemas: [USER], externalId: 'nd-u2', userName: 'nd-u2', emails: [{ value: 'nd-u2@example.com', primary: true }] },
    ];
    writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const r = await finished(bulkImport([file, '--json']));
    expect(r.code, r.stderr).toBe(0);
    expect(report(r)).toMatchObject({ created: 4, failed: 0 });
    const s = await dbState('nd');
    expect(s.counts).toEqual({ User: 2, Group: 2 });
    expect(s.byGroup.get('nd-g1')?.sort()).toEqual(['nd-g2', 'nd-u1']);
    expect(s.byGroup.get('nd-g2')).toEqual(['nd-u2']);
  });

  for (const mode of ['sync', 'async'] as const) {
    it(`members named by {"value": "<externalId>"}, of a line of the file or of a user already on the server, are linked (${mode})`, async () => {
      const p = `ndv-${mode}`;
      // A user imported earlier: on the server, not in the file.
      const earlier = join(dir, `${p}-earlier.ndjson`);
      writeFileSync(earlier, `${JSON.stringify({ schemas: [USER], externalId: `${p}-old`, userName: `${p}-old` })}\n`);
      expect((await finished(bulkImport([earlier, '--json']))).code).toBe(0);
      const file = join(dir, `${p}.ndjson`);
      const lines = [
        { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], externalId: `${p}-g`, displayName: `${p} group`, members: [{ value: `${p}-new` }, { value: `${p}-old` }] },
        { schemas: [USER], externalId: `${p}-new`, userName: `${p}-new` },
      ];
      writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
      const r = await finished(bulkImport([file, '--json', ...(mode === 'async' ? ['--async'] : [])]));
      expect(r.code, r.stderr).toBe(0);
      expect(report(r)).toMatchObject({ created: 2, failed: 0 });
      expect((await dbState(p)).byGroup.get(`${p}-g`)?.sort()).toEqual([`${p}-new`, `${p}-old`]);
    });
  }
});

describe('throttling and transient failures', () => {
  let limited: TestApp;
  let limitedBase: string;
  beforeAll(async () => {
    // Per-token rate limiting: 3 requests a second, bursts of 3; 429 with Retry-After beyond that.
    limited = await startTestApp({ SCIMCAST_RATE_LIMIT: '3', SCIMCAST_RATE_BURST: '3', SCIMCAST_BULK_MAX_OPERATIONS: '100' });
    await limited.app.listen({ port: 0, host: '127.0.0.1' });
    limitedBase = `http://127.0.0.1:${(limited.app.server.address() as AddressInfo).port}/scim/v2`;
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('honours 429 and 503 Retry-After, retries a 502 after it was applied, and ends with everything imported once', async () => {
    const ds = dataset('thr', 1_900, 100, 20);
    let bulks = 0;
    const proxy = await startProxy(limitedBase, (req) => {
      if (!isBulk(req)) return 'pass';
      bulks++;
      if (bulks === 2) return { answer: 503, headers: { 'retry-after': '2' } };
      if (bulks === 6) return { forwardThen: 502 };
      return 'pass';
    });
    const r = await finished(bulkImport([ds.file, '--json', '--concurrency', '4', '--journal', join(dir, 'thr.journal')], { SCIMCAST_URL: proxy.url, SCIMCAST_TOKEN: limited.token }));
    expect(r.code, r.stderr).toBe(0);
    const rep = report(r);
    expect(rep).toMatchObject({ created: 2_000, updated: 0, failed: 0, skipped: 0 });
    expect(proxy.statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(proxy.statuses).toContain(503);
    expect(proxy.statuses).toContain(502);
    expect(rep.retries).toBeGreaterThan(0);
    expect(rep.throttledMs).toBeGreaterThanOrEqual(2_000);
    await expectImported(ds, limited);
  }, 60_000);
});
