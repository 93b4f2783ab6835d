import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, newOpaqueToken } from '../../src/auth/opaque-token.js';
import { loadConfig } from '../../src/config/load.js';
import type { Deps } from '../../src/deps.js';
import { buildApp } from '../../src/http/app.js';
import { makeDeps, prepare } from '../../src/main.js';
import { makeDb } from '../../src/storage/db.js';
import { BASE_URL } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { killAll, sleep, spawnScimcast, startServe } from '../helpers/procs.js';

/**
 * Opaque tokens are verified once and then answered from each API process's memory. A revocation
 * reaches every process at once by NOTIFY, and within SCIMCAST_TOKEN_CACHE_TTL_MS when that
 * notification is lost (docs/auth.md). Each API instance here has its own pool, cache
 * and LISTEN connection on one shared database, as separate processes have, and is reached over
 * real HTTP; the last test runs two real `scimcast serve` processes and the real CLI.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
/** Far longer than any bound asserted below: a refusal seen in time came from the NOTIFY. */
const LONG_TTL = '60000';
/** "At once" on a loaded 2-core machine: a NOTIFY arrives within milliseconds. */
const NOTIFY_BOUND_MS = 1_000;

interface Instance {
  readonly base: string;
  readonly deps: Deps;
  close(): Promise<void>;
}

let dbUrl: string;
let drop: () => Promise<void>;
let admin: pg.Client;
const open: Instance[] = [];

async function startInstance(env: Record<string, string>): Promise<Instance> {
  const config = loadConfig({ DATABASE_URL: dbUrl, BASE_URL, LOG_LEVEL: 'silent', ...env });
  const database = makeDb(dbUrl, { max: 5, statementTimeoutMs: config.limits.statementTimeoutMs });
  const deps = makeDeps(config, database);
  await prepare(deps);
  const app = buildApp(deps, { logger: false });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const inst = {
    base,
    deps,
    async close() {
      await app.close();
      await deps.close();
      await database.close();
    },
  };
  open.push(inst);
  return inst;
}

/** Two API instances on the shared database, with one token with these scopes. */
async function pair(env: Record<string, string>, scopes: string[] = ['scim:read']) {
  const [a, b] = [await startInstance(env), await startInstance(env)];
  if (env.SCIMCAST_TOKEN_CACHE_TTL_MS !== '0') await listening([a.base, b.base]);
  return { a, b, ...(await newToken(a, scopes)) };
}

const listeners = async () =>
  (await admin.query(`select 1 from pg_stat_activity where datname = current_database() and query = 'listen scimcast_tokens'`)).rowCount ?? 0;

/**
 * A process starts listening for revocations on its first authenticated request and caches
 * nothing until the LISTEN is in place (a revocation could otherwise pass unheard): send each one
 * a request, then wait until all of them listen.
 */
async function listening(bases: string[]): Promise<void> {
  for (const base of bases) expect(await get(base, 'sct_000000000000_not-a-token')).toBe(401);
  for (let i = 0; i < 200 && (await listeners()) < bases.length; i++) await sleep(25);
  expect(await listeners()).toBe(bases.length);
}

async function newToken(on: Instance, scopes: string[]): Promise<{ id: string; token: string }> {
  const { id, token } = newOpaqueToken();
  await on.deps.storage.tokens.insert({ id, name: 'test', tokenHash: hashToken(token), scopes, createdAt: new Date(), revokedAt: null });
  return { id, token };
}

async function get(base: string, token: string, timeoutMs = 30_000): Promise<number> {
  const res = await fetch(`${base}/scim/v2/Users?count=1`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer();
  return res.status;
}

/** Milliseconds until `base` refuses `token`, asking every 20 ms; fails after `limitMs`. */
async function msUntilRefused(base: string, token: string, limitMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    const status = await get(base, token);
    const ms = performance.now() - start;
    if (status === 401) return ms;
    expect(status).toBe(200);
    if (ms > limitMs) throw new Error(`${base} still accepts the revoked token after ${Math.round(ms)} ms`);
    await sleep(20);
  }
}

beforeAll(async () => {
  ({ url: dbUrl, drop } = await createTestDatabase());
  admin = new pg.Client({ connectionString: dbUrl });
  await admin.connect();
});
// Closed after each test, so the LISTEN sessions on the database are those of the test's own.
afterEach(async () => {
  await killAll();
  for (const i of open.splice(0)) await i.close().catch(() => {});
});
afterAll(async () => {
  await killAll();
  for (const i of open.splice(0)) await i.close().catch(() => {});
  await admin?.end();
  await drop?.();
});

describe('verified opaque tokens are answered from memory', () => {
  it('a token already verified keeps working while the token table cannot be read', async () => {
    const { a, token } = await pair({ SCIMCAST_TOKEN_CACHE_TTL_MS: LONG_TTL });
    const unseen = await newToken(a, ['scim:read']);
    expect(await get(a.base, token)).toBe(200);
    // Another session holds the strongest lock on api_tokens: any read of it waits.
    await admin.query('begin');
    await admin.query('lock table api_tokens in access exclusive mode');
    try {
      const t0 = performance.now();
      expect(await get(a.base, token, 5_000)).toBe(200);
      expect(performance.now() - t0).toBeLessThan(5_000);
      // The control: a token this process has not verified yet does wait for the lock.
      const waiting = get(a.base, unseen.token);
      const early = await Promise.race([waiting.then(() => 'answered'), sleep(1_000).then(() => 'waiting')]);
      expect(early).toBe('waiting');
      await admin.query('rollback');
      expect(await waiting).toBe(200);
    } finally {
      await admin.query('rollback').catch(() => {});
    }
  });

  it('scopes are checked on every request: a cached read-only token still cannot write', async () => {
    const { a, token } = await pair({ SCIMCAST_TOKEN_CACHE_TTL_MS: LONG_TTL });
    expect(await get(a.base, token)).toBe(200);
    const res = await fetch(`${a.base}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: [USER], userName: 'cached-read-only' }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    const { rows } = await admin.query(`select count(*)::int as n from resources where user_name = 'cached-read-only'`);
    expect(rows[0]!.n).toBe(0);
  });
});

describe('revocation across API processes', () => {
  it('a token revoked through one process is refused by the other at once (NOTIFY), and by the revoking one immediately', async () => {
    const { a, b, id, token } = await pair({ SCIMCAST_TOKEN_CACHE_TTL_MS: LONG_TTL });
    expect(await get(a.base, token)).toBe(200);
    expect(await get(b.base, token)).toBe(200);
    expect(await a.deps.revokeToken(id)).toBe(true);
    expect(await get(a.base, token)).toBe(401);
    expect(await msUntilRefused(b.base, token, NOTIFY_BOUND_MS)).toBeLessThan(NOTIFY_BOUND_MS);
  });

  it('a revocation no notification announces is seen within SCIMCAST_TOKEN_CACHE_TTL_MS', async () => {
    const ttl = 1_500;
    const { a, b, id, token } = await pair({ SCIMCAST_TOKEN_CACHE_TTL_MS: String(ttl) });
    expect(await get(a.base, token)).toBe(200);
    expect(await get(b.base, token)).toBe(200);
    // By hand in SQL, as an operator might: no NOTIFY is sent.
    await admin.query('update api_tokens set revoked_at = now() where id = $1', [id]);
    const margin = 2_000;
    expect(await msUntilRefused(a.base, token, ttl + margin)).toBeLessThan(ttl + margin);
    expect(await msUntilRefused(b.base, token, ttl + margin)).toBeLessThan(ttl + margin);
  });

  it('a process whose LISTEN connection was cut forgets what it cached, so a revocation sent meanwhile still counts at once', async () => {
    const { a, b, id, token } = await pair({ SCIMCAST_TOKEN_CACHE_TTL_MS: LONG_TTL });
    expect(await get(b.base, token)).toBe(200);
    const cut = await admin.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and query = 'listen scimcast_tokens'`,
    );
    expect(cut.rowCount).toBeGreaterThanOrEqual(1);
    expect(await a.deps.revokeToken(id)).toBe(true);
    expect(await msUntilRefused(b.base, token, NOTIFY_BOUND_MS)).toBeLessThan(NOTIFY_BOUND_MS);
    // And once it listens again, it caches again and still hears revocations.
    const next = await newToken(a, ['scim:read']);
    for (let i = 0; i < 200 && (await listeners()) < 2; i++) await sleep(25);
    expect(await listeners()).toBe(2);
    expect(await get(b.base, next.token)).toBe(200);
    expect(await get(b.base, next.token)).toBe(200);
    expect(await a.deps.revokeToken(next.id)).toBe(true);
    expect(await msUntilRefused(b.base, next.token, NOTIFY_BOUND_MS)).toBeLessThan(NOTIFY_BOUND_MS);
  });

  it('a token created through one process works on the other at once, even right after the other refused it', async () => {
    const { a, b } = await pair({ SCIMCAST_TOKEN_CACHE_TTL_MS: LONG_TTL });
    const { id, token } = newOpaqueToken();
    // Unknown tokens are not cached: the refusal leaves nothing behind.
    expect(await get(b.base, token)).toBe(401);
    await a.deps.storage.tokens.insert({ id, name: 'late', tokenHash: hashToken(token), scopes: ['scim:read'], createdAt: new Date(), revokedAt: null });
    expect(await get(b.base, token)).toBe(200);
  });

  it('with SCIMCAST_TOKEN_CACHE_TTL_MS=0 nothing is cached: a revocation by hand is refused on the next request', async () => {
    const { a, id, token } = await pair({ SCIMCAST_TOKEN_CACHE_TTL_MS: '0' });
    expect(await get(a.base, token)).toBe(200);
    await admin.query('update api_tokens set revoked_at = now() where id = $1', [id]);
    expect(await get(a.base, token)).toBe(401);
  });

  it('two `scimcast serve` processes: `scimcast token revoke` is refused by both within the bound', async () => {
    const env = { DATABASE_URL: dbUrl, SCIMCAST_TOKEN_CACHE_TTL_MS: LONG_TTL };
    const p1 = await startServe(env);
    const p2 = await startServe(env);
    await listening([p1.base, p2.base]);
    const cli = async (args: string[]) => {
      const p = spawnScimcast(args, { ...env, BASE_URL });
      const code = await p.exited;
      expect(code, p.output()).toBe(0);
      return p.output().trim();
    };
    const token = (await cli(['token', 'create', '--scopes', 'scim:read', '--name', 'two-processes'])).split('\n').pop()!;
    expect(token).toMatch(/^sct_/);
    // Created by another process a moment ago: both accept it at once, then from memory.
    for (const p of [p1, p2]) {
      expect(await get(p.base, token)).toBe(200);
      expect(await get(p.base, token)).toBe(200);
    }
    expect(await cli(['token', 'revoke', token.split('_')[1]!])).toMatch(/revoked/);
    const [ms1, ms2] = await Promise.all([msUntilRefused(p1.base, token, NOTIFY_BOUND_MS), msUntilRefused(p2.base, token, NOTIFY_BOUND_MS)]);
    expect(ms1).toBeLessThan(NOTIFY_BOUND_MS);
    expect(ms2).toBeLessThan(NOTIFY_BOUND_MS);
  });
});
