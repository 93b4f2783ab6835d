import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/storage/embedded.js';

/**
 * Real `scimcast` child processes for the reliability tests: they are killed with
 * SIGKILL or SIGTERM like an operator's process manager would, so nothing runs in the test's own
 * process that the signal could spare.
 */
const ROOT = join(import.meta.dirname, '../..');

/**
 * The public URL replicas share (SET issuer, meta.location). Always passed: vite puts its own
 * BASE_URL ("/") into the test process's environment, which a child would inherit.
 */
export const SHARED_BASE_URL = 'https://scim.reliability.test';

/** A bootstrap token every child accepts with all scopes (SCIMCAST_BOOTSTRAP_TOKEN). */
export const CHILD_TOKEN = 'reliability-token-0123456789';

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout and stderr so far, for failure messages. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

export interface ApiProc extends Proc {
  readonly base: string;
  readonly port: number;
}

const all: Proc[] = [];

export function spawnScimcast(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['bin/scimcast.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', SCIMCAST_BOOTSTRAP_TOKEN: CHILD_TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // Keep the tail only: a long run must not grow the test's memory without bound.
  const add = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', add);
  child.stderr!.on('data', add);
  const exited = new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code))));
  const p: Proc = {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    kill: (signal) => void (child.exitCode === null && child.signalCode === null && child.kill(signal)),
  };
  all.push(p);
  return p;
}

/** `scimcast serve [--no-worker]` on a free port; resolves once /healthz answers. */
export async function startServe(env: Record<string, string>, opts: { worker?: boolean } = {}): Promise<ApiProc> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const p = spawnScimcast(['serve', ...(opts.worker ? [] : ['--no-worker']), '--port', String(port)], { BASE_URL: base, ...env });
  await waitHealthy(p, base);
  return { ...p, base, port };
}

export interface StartProc extends ApiProc {
  readonly dataDir: string;
  /** The embedded PostgreSQL's postmaster, from its pid file. */
  readonly postmasterPid: number;
}

/**
 * `scimcast start --data-dir DIR` on a free port, with its embedded PostgreSQL; resolves once
 * /healthz answers and, when `ready` is given, the output matches it. The first start initialises
 * the cluster, hence the longer wait.
 */
export async function startWithDataDir(dataDir: string, env: Record<string, string> = {}, opts: { ready?: RegExp } = {}): Promise<StartProc> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const p = spawnScimcast(['start', '--port', String(port), '--data-dir', dataDir], { DATABASE_URL: '', BASE_URL: base, SCIMCAST_SHUTDOWN_TIMEOUT_MS: '5000', ...env });
  await waitHealthy(p, base, { tries: 1200, ready: opts.ready, what: 'scimcast start' });
  const postmasterPid = Number(readFileSync(join(dataDir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0]);
  return { ...p, base, port, dataDir, postmasterPid };
}

const dataDirs: string[] = [];

/** A fresh data directory for `scimcast start`, readable by the postgres user when tests run as root. */
export function newDataDir(prefix = 'scimcast-start-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (process.getuid?.() === 0) chmodSync(dir, 0o755);
  dataDirs.push(dir);
  return dir;
}

/** Remove the data directories of stopped servers (afterAll): one whose PostgreSQL still runs is a failure to look at. */
export function removeDataDirs(): void {
  for (const d of dataDirs.splice(0)) if (!existsSync(join(d, 'pgdata', 'postmaster.pid'))) rmSync(d, { recursive: true, force: true });
}

/** `scimcast worker`; resolves once it has written its first heartbeat (`beat` polls the database). */
export async function startWorkerProc(env: Record<string, string>, beat?: (p: Proc) => Promise<boolean>): Promise<Proc> {
  const p = spawnScimcast(['worker'], { BASE_URL: SHARED_BASE_URL, ...env });
  if (beat) {
    for (let i = 0; i < 600; i++) {
      if (p.child.exitCode !== null) throw new Error(`scimcast worker exited early:\n${p.output()}`);
      if (await beat(p)) return p;
      await sleep(100);
    }
    throw new Error(`scimcast worker did not start:\n${p.output()}`);
  }
  return p;
}

async function waitHealthy(p: Proc, base: string, opts: { tries?: number; ready?: RegExp | undefined; what?: string } = {}): Promise<void> {
  const what = opts.what ?? 'scimcast';
  for (let i = 0; i < (opts.tries ?? 600); i++) {
    if (p.child.exitCode !== null) throw new Error(`${what} exited early:\n${p.output()}`);
    try {
      if ((!opts.ready || opts.ready.test(p.output())) && (await fetch(`${base}/healthz`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error(`${what} did not start:\n${p.output()}`);
}

/** SIGKILL every child still running (afterAll). */
export async function killAll(): Promise<void> {
  for (const p of all.splice(0)) {
    p.kill('SIGKILL');
    await p.exited;
  }
}

/** Whether a process runs (EPERM: it runs, as another user). */
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The long variants run when SCIMCAST_LONG_TESTS=1 (CONTRIBUTING.md, "Tests"). */
export const LONG = process.env.SCIMCAST_LONG_TESTS === '1';

/** A SCIM request to a child over real HTTP, authenticated with CHILD_TOKEN. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${CHILD_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/**
 * Wait until the worker's fan-out has signed the SETs of every committed change (the outbox is
 * empty): what a receiver would see a moment after the commits.
 */
export async function untilFannedOut(query: (sql: string) => Promise<{ rows: { n: number }[] }>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (Number((await query('select count(*)::int as n from changes')).rows[0]!.n) === 0) return;
    await sleep(50);
  }
  throw new Error('changes still wait for the fan-out');
}
