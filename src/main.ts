import { makeRecentGroups } from './provisioning/recent-groups.js';
import type { FastifyInstance } from 'fastify';
import { makeAuthenticator, ensureBootstrapToken, revokeToken } from './auth/authenticate.js';
import { makeTokenCache } from './auth/token-cache.js';
import { makeJwtVerifier } from './auth/jwt.js';
import type { Config } from './config/load.js';
import { makeAppMetrics } from './core/app-metrics.js';
import { systemClock, type Clock } from './core/clock.js';
import { makeIds } from './core/ids.js';
import { makeSecretBox } from './core/secret-box.js';
import type { Deps } from './deps.js';
import { mergeExpositions } from './core/metrics.js';
import { buildApp } from './http/app.js';
import { startMetricsListener, type MetricsListener } from './http/metrics-listener.js';
import { scrapeMetrics } from './http/routes/metrics.js';
import { pooledPasswordHasher } from './provisioning/scrypt-pool.js';
import { makeDb, type Database } from './storage/db.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './storage/embedded.js';
import { makeStorage } from './storage/index.js';
import { makeEventNotifier } from './storage/notify.js';
import { makeTokenRevocationFeed } from './storage/tokens.js';
import { currentKeyLoader, ensureSigningKey } from './events/key-store.js';
import { makeSetSigner } from './events/sign.js';
import { EMITTED_EVENT_URIS } from './events/uris.js';
import { makeAdmissions } from './async/accept.js';
import { makeChangePublisher, makeChangesPublisher, makeOutboxRows } from './feeds/publish.js';
import { callbackHooks } from './feeds/callback.js';
import { setStatus } from './feeds/streams.js';
import { makePushClient } from './delivery/push.js';
import type { Storage } from './storage/index.js';
import { migrateDatabase } from './storage/migrate.js';
import { migrateWorkerSchema, startWorker, type WorkerHandle } from './worker/run.js';

export interface DatabaseHandle {
  readonly url: string;
  readonly database: Database;
  readonly embedded: EmbeddedPostgres | undefined;
  close(): Promise<void>;
}

/** DATABASE_URL when set; otherwise the embedded PostgreSQL under the data directory. */
export async function openDatabase(config: Config, opts: { log?: (msg: string) => void } = {}): Promise<DatabaseHandle> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.databaseUrl;
  if (!url) {
    opts.log?.(`starting embedded PostgreSQL in ${config.dataDir}`);
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
    url = embedded.url('scimcast');
  }
  const database = makeDb(url, { statementTimeoutMs: config.limits.statementTimeoutMs });
  return {
    url,
    database,
    embedded,
    async close() {
      await database.close();
      await embedded?.stop();
    },
  };
}

export async function migrateAll(database: Database): Promise<void> {
  await migrateDatabase(database.pool, () => migrateWorkerSchema(database.pool));
}

/**
 * Stored secrets in the form this configuration writes: with SCIMCAST_KEY_ENCRYPTION_KEY,
 * plaintext ones (written before it was set) are encrypted and those under
 * SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS re-encrypted. Each value not yet under the current key is
 * opened on the way (a value under it names it by fingerprint), so a missing or wrong key stops the
 * process here with an error naming the setting, before it serves anything. At start rather than
 * lazily: signing keys are never rewritten, they would stay plaintext.
 */
export async function sealStoredSecrets(storage: Storage): Promise<{ keys: number; feeds: number }> {
  return { keys: await storage.keys.reseal(), feeds: await storage.feeds.reseal() };
}

/** Work every process does once at start, after migrations. */
export async function prepare(deps: Deps): Promise<void> {
  await sealStoredSecrets(deps.storage);
  await ensureSigningKey(deps.storage, deps.clock, () => deps.ids.uuid().slice(0, 8), deps.config.events.signingAlg);
}

/** The object graph (loadConfig → makeDb → makeDeps), built once; see ARCHITECTURE.md. */
export function makeDeps(config: Config, database: Database, opts: { clock?: Clock; localWorker?: () => boolean } = {}): Deps {
  const clock = opts.clock ?? systemClock;
  const ids = makeIds();
  const storage = makeStorage(database.db, makeSecretBox(config.keyEncryption), { displayFromName: config.compat.memberDisplay });
  const jwt = config.jwt ? makeJwtVerifier(config.jwt) : undefined;
  const notifier = makeEventNotifier(database.pool);
  const tokens = tokenCaching(config, database);
  const sign = makeSetSigner(currentKeyLoader(clock));
  const metrics = makeAppMetrics();
  // No onPushFeed: the NOTIFY that storage.events.insert sends at commit wakes the worker's push
  // loop for the stream (delivery/push-service.ts).
  const publisher = { iss: config.baseUrl, ids, clock, sign, metrics };
  const streams = { ...publisher, storage, baseUrl: config.baseUrl, supported: EMITTED_EVENT_URIS, pushAllow: config.events.pushAllow, pushLoopback: config.events.pushLoopback, streamCaps: { perOwner: config.events.streamsMaxPerOwner, total: config.events.streamsMax } };
  const pushClient = makePushClient({ timeoutMs: config.events.pushTimeoutMs, allow: config.events.pushAllow, loopback: config.events.pushLoopback });
  const provisioning = {
    storage,
    clock,
    ids,
    baseUrl: config.baseUrl,
    compat: config.compat,
    filterLimits: config.limits.filter,
    maxMembers: config.limits.maxMembersReturned,
    passwords: pooledPasswordHasher(config.passwordHashConcurrency),
    onChange: makeChangePublisher(publisher),
    onChanges: makeChangesPublisher(publisher),
    outboxRows: makeOutboxRows(publisher),
    recentGroups: makeRecentGroups(),
  };
  return {
    config,
    storage,
    clock,
    ids,
    authenticate: makeAuthenticator(storage, jwt, tokens?.caching),
    revokeToken: (id) => revokeToken(storage, tokens?.caching.cache, id, clock.now()),
    async workerAlive() {
      if (opts.localWorker?.()) return true;
      const last = await storage.heartbeats.latest();
      return last !== undefined && clock.now().getTime() - last.getTime() < config.worker.deadAfterMs;
    },
    provisioning,
    async: {
      storage,
      admissions: makeAdmissions(storage),
      clock,
      ids,
      baseUrl: config.baseUrl,
      provisioning,
      publisher,
      retentionMs: config.events.asyncRetentionDays * 86_400_000,
      maxAttempts: config.events.asyncMaxAttempts,
      // Per-request callbacks reach what push streams may reach, no more.
      callbacks: { allow: config.events.pushAllow, loopback: config.events.pushLoopback },
    },
    streams,
    fanout: {
      iss: config.baseUrl,
      clock,
      sign,
      batch: 500,
      metrics,
    },
    push: {
      storage,
      clock,
      client: pushClient,
      setStreamStatus: async (feedId, status, reason) => void (await setStatus(streams, undefined, { stream_id: feedId, status, reason })),
      batch: 100,
      misbehavingLimit: config.events.pushMisbehavingLimit,
      backoff: { baseMs: config.events.pushBackoffBaseMs, capMs: config.events.pushBackoffCapMs },
      random: Math.random,
      metrics,
      logTransportError: transportErrorLog(config.logLevel),
      callbacks: callbackHooks({ storage, clock }, config.events.callbackMaxAttempts),
    },
    poll: {
      storage,
      clock,
      notifier,
      longPollMs: config.events.pollTimeoutMs,
      maxLongPollMs: config.events.pollMaxTimeoutMs,
      pageCap: config.events.pollPageCap,
      metrics,
    },
    metrics,
    notifier,
    async close() {
      await notifier.close();
      await tokens?.feed.close();
      await pushClient.close();
    },
  };
}

/**
 * Most verified tokens one process keeps: some 200 bytes each, so a couple of megabytes at most,
 * and far more than the clients a deployment has.
 */
const TOKEN_CACHE_ENTRIES = 10_000;

/**
 * The cache of verified opaque tokens and the LISTEN that empties it on revocation; none when
 * SCIMCAST_TOKEN_CACHE_TTL_MS is 0. The LISTEN connects on the first authenticated request.
 */
function tokenCaching(config: Config, database: Database) {
  if (config.tokenCacheTtlMs <= 0) return undefined;
  const cache = makeTokenCache({ ttlMs: config.tokenCacheTtlMs, maxEntries: TOKEN_CACHE_ENTRIES, now: () => performance.now() });
  const feed = makeTokenRevocationFeed(database.pool, { onRevoked: (id) => cache.drop(id), onReset: () => cache.clear() });
  return { feed, caching: { cache, live: () => feed.live() } };
}

/**
 * Push transport failures with their error code, as a JSON line on stderr at warn level (like the
 * worker's own warnings); stream owners see them only in generic words.
 */
function transportErrorLog(level: string): ((entry: { stream: string; code: string }) => void) | undefined {
  if (!['warn', 'info', 'debug', 'trace'].includes(level)) return undefined;
  return (entry) => void process.stderr.write(`${JSON.stringify({ level: 'warn', source: 'push', msg: 'push attempt failed', ...entry })}\n`);
}

export interface Running {
  readonly app: FastifyInstance | undefined;
  readonly address: string | undefined;
  readonly deps: Deps;
  readonly initialToken: string | undefined;
  /** The token-less metrics listener's address when SCIMCAST_METRICS_PORT is set. */
  readonly metricsAddress: string | undefined;
  /** The database in use (embedded or DATABASE_URL), for tools such as bench/. */
  readonly databaseUrl: string;
  /** This process's worker id (as in worker_heartbeats) when it runs the worker itself. */
  readonly workerId: string | undefined;
  stop(): Promise<void>;
}

/**
 * A worker run in a process of its own next to this one (`scimcast start`): started once the
 * database is migrated and prepared, stopped after the API has drained and before the database.
 */
export interface WorkerProcess {
  stop(): Promise<void>;
  /** Its own counters (Prometheus text), or undefined while it cannot answer. */
  scrape(): Promise<string | undefined>;
}

/**
 * The API served by processes of their own on the one port (`scimcast start` with
 * SCIMCAST_API_PROCESSES above 1): started once the database is ready and the worker process runs,
 * stopped (drained) first, as the API of one process would be.
 */
export interface ApiProcesses {
  /** Where they listen, `http://host:port`. */
  readonly address: string;
  /** Each running API process's counters (Prometheus text), those that answered in time. */
  scrape(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Where a worker process finds the database; `postmasterPid` when it is this process's embedded one. */
export interface DatabaseLocation {
  readonly url: string;
  readonly postmasterPid: number | undefined;
}

/** The lame-duck window before the listener closes: half a second, within the shutdown bound. */
const drainMs = (config: Config) => Math.min(500, Math.floor(config.shutdownTimeoutMs / 2));

/**
 * Start API and/or worker on one database; `stop()` drains requests, stops the worker, then the
 * database. `workerProcess` runs the worker in another process instead (then `worker` is false):
 * readiness then comes from its heartbeats, as for an API-only replica, and `/metrics` adds its
 * counters. `metricsListener: false` leaves SCIMCAST_METRICS_PORT to the process that answers
 * for this one.
 *
 * `apiProcesses` serves the API from processes of their own (then `api` is false here): this
 * process prepares the database, prints the first token and answers /metrics for all of them.
 * In those API processes, `prepared` skips what the first process already did (migrations,
 * sealing secrets, the signing key, the first token) and `scrape` replaces this process's
 * /metrics answer (they ask the first process, which sums every process's counters).
 */
export async function startScimcast(
  config: Config,
  opts: {
    api: boolean;
    worker: boolean;
    log?: (msg: string) => void;
    logger?: boolean;
    workerProcess?: (db: DatabaseLocation, deps: Deps) => Promise<WorkerProcess>;
    metricsListener?: boolean;
    apiProcesses?: (db: DatabaseLocation, scrape: () => Promise<string>) => Promise<ApiProcesses>;
    prepared?: boolean;
    scrape?: (own: () => Promise<string>) => Promise<string>;
  },
): Promise<Running> {
  const dbh = await openDatabase(config, opts);
  try {
    if (!opts.prepared) await migrateAll(dbh.database);
    let worker: WorkerHandle | undefined;
    const deps = makeDeps(config, dbh.database, { localWorker: () => worker !== undefined });
    if (!opts.prepared) await prepare(deps);
    const servesApi = opts.api || opts.apiProcesses !== undefined;
    const initialToken = servesApi && !opts.prepared ? await ensureBootstrapToken(deps.storage, deps.clock, config.bootstrapToken) : undefined;
    if (opts.worker) worker = await startWorker(deps, dbh.database.pool, { databaseUrl: dbh.url });
    let child: WorkerProcess | undefined;
    let app: FastifyInstance | undefined;
    let address: string | undefined;
    let metricsListener: MetricsListener | undefined;
    let apis: ApiProcesses | undefined;
    const ownScrape = async () => {
      const own = await scrapeMetrics(deps);
      const [theirs, apiTexts] = await Promise.all([child?.scrape(), apis?.scrape()]);
      const others = [...(theirs ? [theirs] : []), ...(apiTexts ?? [])];
      return others.length > 0 ? mergeExpositions([own, ...others]) : own;
    };
    const scrape = opts.scrape ? () => opts.scrape!(ownScrape) : ownScrape;
    try {
      // Before listening: once /healthz answers, a worker is alive and /readyz says so.
      if (opts.workerProcess) child = await opts.workerProcess({ url: dbh.url, postmasterPid: dbh.embedded?.pid }, deps);
      if (opts.api) {
        app = buildApp(deps, { logger: opts.logger ?? true, scrape });
        // Lame duck: once shutdown begins, /readyz turns 503 but the listener stays
        // open briefly, so requests already sent (still unread in socket buffers on a busy
        // process) are served with Connection: close instead of being reset with idle sockets.
        app.addHook('preClose', () => new Promise<void>((r) => setTimeout(r, drainMs(config))));
        address = await app.listen({ host: config.host, port: config.port });
      }
      if (opts.apiProcesses) {
        apis = await opts.apiProcesses({ url: dbh.url, postmasterPid: dbh.embedded?.pid }, scrape);
        address = apis.address;
      }
      // Also in worker-only processes: their push counters exist nowhere else.
      if (config.metrics.port !== undefined && opts.metricsListener !== false) {
        metricsListener = await startMetricsListener({
          host: config.metrics.host,
          port: config.metrics.port,
          scrape,
          onError: (e) => opts.log?.(`metrics scrape failed: ${String(e)}`),
        });
        opts.log?.(`metrics on ${metricsListener.address}/metrics`);
      }
    } catch (e) {
      // A taken port must not leave the worker and the LISTEN connection running.
      await app?.close().catch(() => {});
      await apis?.stop().catch(() => {});
      await worker?.stop().catch(() => {});
      await child?.stop().catch(() => {});
      await deps.close().catch(() => {});
      throw e;
    }
    return {
      app,
      address,
      metricsAddress: metricsListener?.address,
      deps,
      initialToken,
      databaseUrl: dbh.url,
      workerId: worker?.id,
      async stop() {
        await metricsListener?.close();
        await app?.close();
        await apis?.stop();
        await worker?.stop();
        // Its own pool is its own: it ends before the database it talks to stops.
        await child?.stop();
        await deps.close();
        await dbh.close();
      },
    };
  } catch (e) {
    await dbh.close().catch(() => {});
    throw e;
  }
}
