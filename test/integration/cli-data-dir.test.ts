import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/storage/embedded.js';

/**
 * Admin commands act on the database directly, so they must find the server's: the data directory
 * it was started with (through its runtime.json) or DATABASE_URL. Run from another directory, or
 * without the server's SCIMCAST_DATA_DIR, they used to create a new embedded PostgreSQL under
 * ./.scimcast and print a token that the running server answered with 401. Now they create
 * nothing, exit non-zero, and say where they looked and how to point them at the server's data.
 */
const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/scimcast.js');
const TOKEN = 'cli-data-dir-token-0123456789abcdef';

const serverDir = mkdtempSync(join(tmpdir(), 'scimcast-datadir-'));
if (process.getuid?.() === 0) chmodSync(serverDir, 0o755);
const elsewhere: string[] = [];
let server: ChildProcess | undefined;
let base = '';

/** The environment of a shell that has none of the server's settings. */
function bareEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, BASE_URL: '', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.SCIMCAST_DATA_DIR;
  return { ...env, ...extra };
}

function run(args: string[], cwd: string, env = bareEnv()): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((r) => child.once('exit', (code) => r({ code, stdout, stderr })));
}

/** An empty directory to run a command from, as a user in another checkout or their home would. */
function emptyDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'scimcast-elsewhere-'));
  elsewhere.push(d);
  return d;
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, [BIN, 'start', '--port', String(port), '--data-dir', serverDir], {
    cwd: ROOT,
    env: bareEnv({ BASE_URL: base, SCIMCAST_BOOTSTRAP_TOKEN: TOKEN }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  server.stdout!.on('data', (d) => (out += d));
  server.stderr!.on('data', (d) => (out += d));
  for (let i = 0; ; i++) {
    if (server.exitCode !== null) throw new Error(`scimcast start exited early:\n${out}`);
    if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break;
    if (i > 1200) throw new Error(`scimcast start did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  for (const d of elsewhere) rmSync(d, { recursive: true, force: true });
  if (!existsSync(join(serverDir, 'pgdata', 'postmaster.pid'))) rmSync(serverDir, { recursive: true, force: true });
});

describe('admin commands without the server’s data directory', () => {
  const commands: [string, string[]][] = [
    ['token create', ['token', 'create', '--scopes', 'metrics:read']],
    ['token list', ['token', 'list']],
    ['keys list', ['keys', 'list']],
    ['keys rotate', ['keys', 'rotate']],
    ['streams list', ['streams', 'list']],
    ['streams stats', ['streams', 'stats', 'f-0123456789ab']],
    ['worker', ['worker']],
  ];

  for (const [name, args] of commands) {
    it(`${name} in an empty directory exits 1, says where it looked and how to point it at the server, and creates nothing`, async () => {
      const cwd = emptyDir();
      const r = await run(args, cwd);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(join(cwd, '.scimcast'));
      for (const way of ['--data-dir', 'SCIMCAST_DATA_DIR', 'DATABASE_URL']) expect(r.stderr).toContain(way);
      expect(readdirSync(cwd)).toEqual([]);
    });
  }

  it('a --data-dir that holds no server is named as given, absolute, and stays absent', async () => {
    const cwd = emptyDir();
    const r = await run(['token', 'create', '--scopes', 'scim:read', '--data-dir', 'nowhere/data'], cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(cwd, 'nowhere/data'));
    expect(existsSync(join(cwd, 'nowhere'))).toBe(false);
  });
});

describe('admin commands with the server’s data directory', () => {
  it('token create, from any directory, prints a token the running server accepts', async () => {
    const r = await run(['token', 'create', '--scopes', 'scim:read', '--data-dir', serverDir], emptyDir());
    expect(r.code, r.stderr).toBe(0);
    const res = await fetch(`${base}/scim/v2/Users`, { headers: { authorization: `Bearer ${r.stdout.trim()}` } });
    expect(res.status).toBe(200);
  });

  it('SCIMCAST_DATA_DIR works as --data-dir does: keys list shows the server’s signing key', async () => {
    const r = await run(['keys', 'list'], emptyDir(), bareEnv({ SCIMCAST_DATA_DIR: serverDir }));
    expect(r.code, r.stderr).toBe(0);
    const kids = r.stdout.trim().split('\n').map((l) => l.split('\t')[0]);
    const jwks = (await (await fetch(`${base}/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(kids).toEqual(expect.arrayContaining(jwks.keys.map((k) => k.kid)));
  });

  it('streams list shows the streams the server has', async () => {
    const created = await fetch(`${base}/ssf/streams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] }),
    });
    expect(created.status).toBe(201);
    const { stream_id } = (await created.json()) as { stream_id: string };
    const r = await run(['streams', 'list', '--data-dir', serverDir], emptyDir());
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { stream_id: string }[]).map((s) => s.stream_id)).toContain(stream_id);
  });
});

describe('a data directory the embedded PostgreSQL cannot reach', () => {
  // As root, PostgreSQL runs as the OS user postgres: a parent private to root (as /root is)
  // used to fail deep inside initdb with a bare "Permission denied".
  it.runIf(process.getuid?.() === 0)('start exits 1 at once, naming the directory postgres cannot enter and the ways out', async () => {
    const locked = emptyDir();
    chmodSync(locked, 0o700);
    const r = await run(['start', '--port', '0', '--data-dir', join(locked, 'data')], emptyDir(), bareEnv({ LOG_LEVEL: 'error' }));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`cannot enter ${locked}`);
    for (const way of ['SCIMCAST_DATA_DIR', '--data-dir', 'DATABASE_URL']) expect(r.stderr).toContain(way);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(locked, 'data', 'pgdata'))).toBe(false);
  });
});
