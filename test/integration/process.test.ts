import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/storage/embedded.js';

/**
 * The set-up contract: `scimcast start` on an embedded PostgreSQL, a token printed
 * once, Ctrl-C stops everything, a second start reuses the data, and a SIGKILLed server's orphaned
 * PostgreSQL is recovered by the next start.
 */
const ROOT = join(import.meta.dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'scimcast-proc-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

async function start(port: number, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['bin/scimcast.js', 'start', '--port', String(port), '--data-dir', dataDir], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: '', BASE_URL: '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`scimcast exited early:\n${out}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { child, base, output: () => out };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`scimcast did not start:\n${out}`);
}

async function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['bin/scimcast.js', ...args, '--data-dir', dataDir], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: '', BASE_URL: '', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return { code: await exited(child), out };
}

/** The pid of `scimcast start`'s worker process (Linux: /proc lists a process's children). */
function workerProcessOf(pid: number): number | undefined {
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return kids.find((k) => readFileSync(`/proc/${k}/cmdline`, 'utf8').includes('--supervised'));
}

const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

describe('scimcast start on embedded PostgreSQL', () => {
  let token = '';

  it('starts, prints one admin token, answers an authenticated ServiceProviderConfig, and stops on SIGINT', async () => {
    const port = await freePort();
    const s = await start(port);
    await new Promise((r) => setTimeout(r, 200));
    const m = /Initial admin token[^\n]*\n\n\s+(\S+)/.exec(s.output());
    expect(m, s.output()).not.toBeNull();
    // LOG_LEVEL=warn covers the command's own lines too ("starting embedded PostgreSQL" is info).
    expect(s.output()).not.toContain('"level":"info"');
    token = m![1]!;
    const spc = await fetch(`${s.base}/scim/v2/ServiceProviderConfig`, { headers: { authorization: `Bearer ${token}` } });
    expect(spc.status).toBe(200);
    const created = await fetch(`${s.base}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'persisted' }),
    });
    expect(created.status).toBe(201);
    expect((await fetch(`${s.base}/readyz`)).status).toBe(200);
    s.child.kill('SIGINT');
    expect(await exited(s.child)).toBe(0);
    // The embedded PostgreSQL stopped with it.
    expect(() => readFileSync(join(dataDir, 'pgdata', 'postmaster.pid'))).toThrow();
  });

  it('a second start reuses the data and prints no new token; admin commands work while it runs', async () => {
    const s = await start(await freePort());
    expect(s.output()).not.toContain('Initial admin token');
    const list = await fetch(`${s.base}/scim/v2/Users?filter=${encodeURIComponent('userName eq "persisted"')}`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await list.json()) as { totalResults: number }).totalResults).toBe(1);
    // token create reaches the running server's embedded PostgreSQL through runtime.json.
    const created = await cli(['token', 'create', '--scopes', 'scim:read']);
    expect(created.code).toBe(0);
    const readToken = created.out.trim();
    expect((await fetch(`${s.base}/scim/v2/Users`, { headers: { authorization: `Bearer ${readToken}` } })).status).toBe(200);
    expect((await fetch(`${s.base}/scim/v2/Users`, { method: 'POST', headers: { authorization: `Bearer ${readToken}`, 'content-type': 'application/scim+json' }, body: '{}' })).status).toBe(403);
    // keys rotate: a new signer, the old public key stays in the JWKS, and the running server's
    // worker signs the very next SET with the new key.
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const stream = (await (await fetch(`${s.base}/ssf/streams`, { method: 'POST', headers: auth, body: JSON.stringify({ events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] }) })).json()) as { stream_id: string };
    const rotated = await cli(['keys', 'rotate']);
    expect(rotated.code).toBe(0);
    const jwks = (await (await fetch(`${s.base}/jwks.json`)).json()) as { keys: unknown[] };
    expect(jwks.keys).toHaveLength(2);
    await fetch(`${s.base}/scim/v2/Users`, { method: 'POST', headers: { ...auth, 'content-type': 'application/scim+json' }, body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'after-rotation' }) });
    const polled = (await (await fetch(`${s.base}/ssf/streams/${stream.stream_id}/poll`, { method: 'POST', headers: auth, body: JSON.stringify({ returnImmediately: false, maxEvents: 1 }) })).json()) as { sets: Record<string, string> };
    const [jws] = Object.values(polled.sets);
    expect(JSON.parse(Buffer.from(jws!.split('.')[0]!, 'base64url').toString()).kid).toBe(rotated.out.trim());
    expect((await cli(['token', 'create', '--scopes', 'nonsense'])).code).toBe(1);
    // Killed outright with its worker process (kill -9 of both): nothing is left to stop the
    // embedded PostgreSQL, which the next start must recover.
    const worker = workerProcessOf(s.child.pid!);
    expect(worker).toBeDefined();
    s.child.kill('SIGKILL');
    process.kill(worker!, 'SIGKILL');
    await exited(s.child);
  });

  it('after a SIGKILL the next start recovers the orphaned PostgreSQL', async () => {
    const s = await start(await freePort());
    const list = await fetch(`${s.base}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await list.json()) as { totalResults: number }).totalResults).toBe(2); // persisted, after-rotation
    s.child.kill('SIGTERM');
    expect(await exited(s.child)).toBe(0);
  });

  it('invalid configuration fails at start with a message naming the key', async () => {
    const child = spawn(process.execPath, ['bin/scimcast.js', 'start'], { cwd: ROOT, env: { ...process.env, BASE_URL: '', PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    expect(await exited(child)).toBe(1);
    expect(err).toMatch(/PORT/);
  });
});
