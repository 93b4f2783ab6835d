import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { createToken } from '../../src/auth/authenticate.js';
import { SCOPES } from '../../src/auth/scopes.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import type { Clock } from '../../src/core/clock.js';
import type { Deps } from '../../src/deps.js';
import { buildApp } from '../../src/http/app.js';
import type { LogSink } from '../../src/http/log-options.js';
import { fanOutAll } from '../../src/feeds/fanout.js';
import { startFanoutLoop } from '../../src/feeds/fanout-loop.js';
import { CHANGES_CHANNEL, CHANGES_PAYLOAD } from '../../src/storage/changes.js';
import { makeEventNotifier } from '../../src/storage/notify.js';
import { makeDeps, prepare } from '../../src/main.js';
import { makeDb, type Database } from '../../src/storage/db.js';
import { createTestDatabase } from './db.js';
import { startWorker, type WorkerHandle } from '../../src/worker/run.js';

export const BASE_URL = 'https://scim.example.test';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly deps: Deps;
  readonly config: Config;
  readonly database: Database;
  readonly dbUrl: string;
  /** A token with every scope. */
  readonly token: string;
  tokenWith(scopes: string[]): Promise<string>;
  /**
   * Sign and store the SETs of every committed change now, as the worker's fan-out does within
   * milliseconds. `req` does it before every stream request (/ssf/…) and async status read, so a
   * test without a running worker reads what a receiver would see a moment later.
   */
  settle(): Promise<number>;
  /** JSON request through fastify inject, authenticated with `token` unless `auth: null`. */
  req(method: string, url: string, body?: unknown, opts?: { auth?: string | null; headers?: Record<string, string>; settle?: boolean }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/**
 * `logStream`: the request logger writes its JSON lines there (at LOG_LEVEL from `env`) instead
 * of being off; test/security/secrets-in-logs.test.ts reads them. `clock` replaces the system clock
 * (test/integration/async-bulk.test.ts moves it past the async retention).
 */
export async function startTestApp(env: Record<string, string> = {}, opts: { worker?: boolean; logStream?: LogSink; clock?: Clock; fanout?: boolean } = {}): Promise<TestApp> {
  const { url: dbUrl, drop } = await createTestDatabase();
  const config = loadConfig({ DATABASE_URL: dbUrl, BASE_URL, LOG_LEVEL: 'silent', ...env });
  const database = makeDb(dbUrl, { max: 10, statementTimeoutMs: config.limits.statementTimeoutMs });
  const deps = makeDeps(config, database, opts.clock ? { clock: opts.clock } : {});
  await prepare(deps);
  const app = buildApp(deps, opts.logStream ? { logStream: opts.logStream } : { logger: false });
  await app.ready();
  const { token } = await createToken(deps.storage, deps.clock, { name: 'test', scopes: SCOPES });
  const settle = () => fanOutAll({ ...deps.fanout, storage: deps.storage });
  // A real graphile-worker runner on the same database, as in production (no mocks).
  const worker: WorkerHandle | undefined = opts.worker ? await startWorker(deps, database.pool) : undefined;
  // Without a worker, its fan-out still runs here (some worker always does in a deployment),
  // unless `fanout: false`: then changes wait until the test calls settle().
  const waker = worker || opts.fanout === false ? undefined : makeEventNotifier(database.pool, CHANGES_CHANNEL);
  const fanout = waker && startFanoutLoop({ ...deps.fanout, storage: deps.storage }, waker, { key: CHANGES_PAYLOAD, idleMs: 1000, onError: () => {} });
  return {
    app,
    deps,
    config,
    database,
    dbUrl,
    token,
    settle,
    tokenWith: async (scopes) => (await createToken(deps.storage, deps.clock, { name: 'scoped', scopes })).token,
    async req(method, url, body, opts = {}) {
      if (opts.settle !== false && /^\/ssf\/|\/AsyncRequests/.test(url)) await settle();
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const auth = opts.auth === undefined ? token : opts.auth;
      if (auth !== null) headers.authorization = `Bearer ${auth}`;
      if (body !== undefined && typeof body !== 'string' && !headers['content-type']) headers['content-type'] = 'application/scim+json';
      return app.inject({ method: method as 'GET', url, headers, payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    },
    async close() {
      await app.close();
      await worker?.stop();
      await fanout?.stop();
      await waker?.close();
      await deps.close();
      await database.close();
      await drop();
    },
  };
}

/**
 * One test app for the enclosing file or describe block: started in beforeAll, closed in afterAll.
 * The handle it returns stands for the app once beforeAll has run (use it in hooks and tests, not
 * while the file is being collected). Files that need more around the app (several apps, a
 * receiver closed before it, a database client) call startTestApp themselves.
 */
export function useTestApp(env: Record<string, string> = {}, opts: Parameters<typeof startTestApp>[1] = {}): TestApp {
  let started: TestApp | undefined;
  beforeAll(async () => {
    started = await startTestApp(env, opts);
  });
  afterAll(async () => {
    await started?.close();
    started = undefined;
  });
  return new Proxy({} as TestApp, {
    get(_, key) {
      if (!started) throw new Error(`useTestApp: the app is not running (read .${String(key)} in a hook or a test)`);
      return Reflect.get(started, key);
    },
  });
}
