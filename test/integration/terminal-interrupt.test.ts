import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/storage/embedded.js';

/**
 * Ctrl-C in a terminal: the terminal sends SIGINT to the whole foreground process group, so
 * `scimcast start`, its worker process and (unless it has a session of its own) the embedded
 * PostgreSQL all receive it at once. The stop must still go in order (drain requests, end the
 * worker's job at a safe point, then stop the database): no error line, a quick exit 0, no
 * runtime file left, and the interrupted bulk finishes on the next start, every operation once.
 */
const ROOT = join(import.meta.dirname, '../..');
const TOKEN = 'terminal-interrupt-token-0123456789';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const OPERATIONS = 3_000;

const dataDir = mkdtempSync(join(tmpdir(), 'scimcast-ctrlc-'));
if (process.getuid?.() === 0) chmodSync(dataDir, 0o755);
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
  if (!existsSync(join(dataDir, 'pgdata', 'postmaster.pid'))) rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Started {
  readonly child: ChildProcess;
  readonly base: string;
  output(): string;
  readonly exited: Promise<number | null>;
}

/** `scimcast start` as a terminal runs it: the leader of its own process group. */
async function start(port: number): Promise<Started> {
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['bin/scimcast.js', 'start', '--port', String(port), '--data-dir', dataDir], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, DATABASE_URL: '', BASE_URL: base, LOG_LEVEL: 'info', SCIMCAST_BOOTSTRAP_TOKEN: TOKEN, NODE_OPTIONS: '--trace-deprecation' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`scimcast start exited early:\n${out}`);
    if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) return { child, base, output: () => out, exited };
    await sleep(100);
  }
  throw new Error(`scimcast start did not start:\n${out}`);
}

const call = (base: string, path: string, init: RequestInit = {}) =>
  fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json', ...(init.headers ?? {}) } });

/** Ctrl-C: SIGINT to every process of the group. Resolves with the exit code and the time it took. */
async function interrupt(s: Started): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  process.kill(-s.child.pid!, 'SIGINT');
  const code = await s.exited;
  return { code, ms: Date.now() - t0 };
}

/** What must not appear when a stop is clean. */
const TROUBLE = /"level":"error"|Failed|ECONNRESET|ECONNREFUSED|DeprecationWarning|terminating connection/;

describe('Ctrl-C in a terminal (SIGINT to the whole process group)', () => {
  it('stops in order during an async bulk: exit 0 in seconds, no error line, no runtime file; the next start finishes the bulk', async () => {
    const port = await freePort();
    const first = await start(port);
    const tag = Date.now().toString(36);
    const ops = Array.from({ length: OPERATIONS }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: { schemas: [USER], userName: `ctrlc-${tag}-${i}` } }));
    const accepted = await call(first.base, '/scim/v2/Bulk', {
      method: 'POST',
      headers: { prefer: 'respond-async' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: ops }),
    });
    expect(accepted.status).toBe(202);
    const status = new URL(accepted.headers.get('location')!).pathname;
    // Until the worker is in the middle of it: some operations done, not all.
    for (let i = 0; i < 600; i++) {
      const s = (await (await call(first.base, status)).json()) as { operationsCount?: { success: number } };
      if ((s.operationsCount?.success ?? 0) > 0) break;
      await sleep(50);
    }

    const stopped = await interrupt(first);
    expect(stopped.code, first.output()).toBe(0);
    // Generous for a loaded machine: one unit of work, the drain and the database's own stop.
    expect(stopped.ms, first.output()).toBeLessThan(8_000);
    const bad = first.output().split('\n').filter((l) => TROUBLE.test(l));
    expect(bad, first.output()).toEqual([]);
    expect(existsSync(join(dataDir, 'runtime.json'))).toBe(false);
    expect(existsSync(join(dataDir, 'pgdata', 'postmaster.pid'))).toBe(false);

    const second = await start(port);
    let done: { status: string; operationsCount: { total: number; success: number; failed: number } } | undefined;
    for (let i = 0; i < 1200 && done?.status !== 'completed'; i++) {
      done = (await (await call(second.base, status)).json()) as typeof done;
      await sleep(100);
    }
    expect(done?.status, JSON.stringify(done)).toBe('completed');
    expect(done!.operationsCount).toMatchObject({ total: OPERATIONS, success: OPERATIONS, failed: 0 });
    const filter = encodeURIComponent(`userName sw "ctrlc-${tag}-"`);
    const users = (await (await call(second.base, `/scim/v2/Users?filter=${filter}&count=0`)).json()) as { totalResults: number };
    expect(users.totalResults).toBe(OPERATIONS);

    const again = await interrupt(second);
    expect(again.code, second.output()).toBe(0);
    expect(second.output().split('\n').filter((l) => TROUBLE.test(l)), second.output()).toEqual([]);
    expect(existsSync(join(dataDir, 'runtime.json'))).toBe(false);
  }, 240_000);
});
