import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runningEmbedded } from '../../src/storage/embedded.js';
import { makeClient, type Client } from './client.js';
import { sleep } from './stats.js';

export const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Memory of one server process, read from /proc (the server's own RSS, apart from the
 * load generator). Writing 5 to clear_refs resets VmHWM, so each scenario gets its own peak.
 */
export class Rss {
  constructor(readonly pid: number) {}
  private field(name: string): number {
    const m = new RegExp(`${name}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  }
  /** Start a new peak window; false if the kernel refused (then peaks span the process life). */
  reset(): boolean {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }
  peakMb(): number {
    try {
      return this.field('VmHWM');
    } catch {
      return NaN;
    }
  }
  nowMb(): number {
    try {
      return this.field('VmRSS');
    } catch {
      return NaN;
    }
  }
}

export interface Child {
  readonly proc: ChildProcess;
  readonly rss: Rss;
  stop(): Promise<void>;
}

async function stopChild(proc: ChildProcess, ms = 20_000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(t);
}

/** A TypeScript helper process under bench/ that prints `listening <url>` when it is ready. */
export async function startHelper(script: string, env: Record<string, string> = {}): Promise<Child & { url: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((res, rej) => {
    let buf = '';
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /listening (\S+)/.exec(buf);
      if (m) res(m[1]!);
    });
    proc.once('exit', (code) => rej(new Error(`${script} exited with ${code} before listening`)));
  });
  proc.stdout!.resume();
  return { proc, url, rss: new Rss(proc.pid!), stop: () => stopChild(proc) };
}

export interface Scimcast extends Child {
  readonly origin: string;
  readonly token: string;
  readonly dataDir: string;
  /** The embedded PostgreSQL's URL, for seeding and the raw INSERT ceiling. */
  readonly databaseUrl: string;
  readonly client: Client;
}

/**
 * `scimcast start` (API + worker) as a child process on a fresh embedded PostgreSQL with the
 * production settings: fsync and synchronous_commit on, no test shortcuts, and the settings a
 * user gets by default, log level included (every request is logged at `info`; the lines go to
 * /dev/null, but they are formatted and written as they would be). Only public interfaces are
 * used: the CLI, env configuration and HTTP.
 */
export async function startScimcast(opts: { env?: Record<string, string>; command?: string[]; nodeArgs?: string[]; postgresConf?: readonly string[] } = {}): Promise<Scimcast> {
  const dataDir = mkdtempSync(join(tmpdir(), 'scimcast-bench-'));
  if (process.getuid?.() === 0) chmodSync(dataDir, 0o755);
  const port = await freePort();
  const token = `bench-${randomUUID()}`;
  const origin = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATABASE_URL: '',
    SCIMCAST_DATA_DIR: dataDir,
    PORT: String(port),
    BASE_URL: origin,
    SCIMCAST_BOOTSTRAP_TOKEN: token,
    ...(opts.env ?? {}),
  };
  if (opts.postgresConf) {
    // Server settings that need a restart (shared_preload_libraries): `scimcast migrate` creates
    // the embedded cluster and stops it, the lines go into its postgresql.conf, and `start` below
    // starts it with them.
    await new Promise<void>((res, rej) => {
      const m = spawn(process.execPath, [join(ROOT, 'bin/scimcast.js'), 'migrate'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
      m.once('exit', (code) => (code === 0 ? res() : rej(new Error(`scimcast migrate exited with ${code}`))));
    });
    appendFileSync(join(dataDir, 'pgdata', 'postgresql.conf'), `\n${opts.postgresConf.join('\n')}\n`);
  }
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), join(ROOT, 'bin/scimcast.js'), ...(opts.command ?? ['start'])], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  proc.once('exit', () => (exited = true));
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`scimcast exited with ${proc.exitCode} during start`);
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (i > 1200) throw new Error('scimcast did not start within 120 s');
    await sleep(100);
  }
  // DATABASE_URL in `env`: another server's database (bench/scenarios/api-processes.ts).
  const live = opts.env?.DATABASE_URL ? { url: opts.env.DATABASE_URL } : runningEmbedded(dataDir);
  if (!live) throw new Error(`no embedded PostgreSQL found under ${dataDir}`);
  const client = makeClient(origin, { token, connections: 128 });
  return {
    proc,
    rss: new Rss(proc.pid!),
    origin,
    token,
    dataDir,
    databaseUrl: live.url,
    client,
    async stop() {
      await client.close();
      await stopChild(proc, 30_000);
      if (existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
