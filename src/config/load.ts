
import { availableParallelism } from 'node:os';
import { AppError } from '../core/errors.js';
import { KEK_PREVIOUS_SETTING, KEK_SETTING, parseKeyEncryptionKey, type KeyEncryptionKeys } from '../core/secret-box.js';
import type { ClientCompat } from '../scim/compat.js';
import { envSchema, type Env } from './schema.js';

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly baseUrl: string;
  readonly databaseUrl: string | undefined;
  readonly logLevel: string;
  readonly dataDir: string;
  readonly bootstrapToken: string | undefined;
  readonly bulk: { readonly maxOperations: number; readonly maxPayloadSize: number };
  readonly limits: {
    readonly maxBodySize: number;
    readonly jsonMaxDepth: number;
    readonly filterMaxResults: number;
    readonly filter: { readonly maxLength: number; readonly maxNodes: number; readonly maxDepth: number };
    /** PostgreSQL statement_timeout per pooled connection; 0 = none. */
    readonly statementTimeoutMs: number;
    /** Group members one response may carry (RFC 7644 §3.4.2.4 tooMany beyond). */
    readonly maxMembersReturned: number;
  };
  /** Per-client token bucket; undefined when SCIMCAST_RATE_LIMIT is 0 (off). */
  readonly rateLimit: { readonly rate: number; readonly burst: number } | undefined;
  readonly jwt:
    | { readonly issuer: string; readonly audience: string; readonly jwksUrl: string; readonly scopeClaim: string; readonly requireAtTyp: boolean }
    | undefined;
  /** Verified opaque tokens kept in memory this long (ms); 0: no cache. */
  readonly tokenCacheTtlMs: number;
  readonly worker: { readonly concurrency: number; readonly deadAfterMs: number };
  readonly shutdownTimeoutMs: number;
  /** API processes of `scimcast start` on the one port; 1: the API runs in the first process, no cluster. */
  readonly apiProcesses: number;
  /** Password hashes computed at once (SCIMCAST_PASSWORD_HASH_CONCURRENCY or the default for this machine). */
  readonly passwordHashConcurrency: number;
  readonly compat: ClientCompat;
  /** Token-less /metrics listener; `port` unset means none (the main port still serves /metrics). */
  readonly metrics: { readonly port: number | undefined; readonly host: string };
  readonly events: {
    readonly pushAllow: readonly string[];
    readonly pollTimeoutMs: number;
    readonly pollMaxTimeoutMs: number;
    readonly pollPageCap: number;
    readonly retentionDays: number;
    readonly signingAlg: 'ES256' | 'RS256' | 'EdDSA';
    readonly asyncRetentionDays: number;
    readonly asyncMaxAttempts: number;
    /** A queued async request moves up one priority level after waiting this long. */
    readonly asyncPriorityAgingMs: number;
    readonly pushTimeoutMs: number;
    readonly pushBackoffBaseMs: number;
    readonly pushBackoffCapMs: number;
    readonly pushMisbehavingLimit: number;
    /** Push delivery's own connections in a worker process, and its safety sweep's period. */
    readonly pushPoolSize: number;
    readonly pushSweepMs: number;
    /**
     * Push may reach loopback targets without the allow-list: only while HOST is loopback itself
     * (127.0.0.0/8, ::1, localhost), where the server's users are on its own machine.
     */
    readonly pushLoopback: boolean;
    /** The most streams one owner, and the whole deployment, may hold. */
    readonly streamsMaxPerOwner: number;
    readonly streamsMax: number;
    /** Push attempts of one SET to a per-request callback before it is dead-lettered. */
    readonly callbackMaxAttempts: number;
  };
  /**
   * Key-encryption keys for secrets at rest; undefined means they are stored in plaintext.
   * KeyObjects: printing or serialising the configuration never shows the key bytes.
   */
  readonly keyEncryption: KeyEncryptionKeys | undefined;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/**
 * Parse the environment once, name the bad key on failure, and freeze the result: modules get a
 * typed, read-only slice, never process.env.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Record<string, string>> = {}): Config {
  const parsed = envSchema.safeParse({ ...pick(env), ...overrides });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new AppError('ERR_CONFIG_INVALID', `Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const jwtKeys = [e.SCIMCAST_JWT_ISSUER, e.SCIMCAST_JWT_AUDIENCE, e.SCIMCAST_JWT_JWKS_URL];
  if (jwtKeys.some((k) => k) && !jwtKeys.every((k) => k)) {
    throw new AppError(
      'ERR_CONFIG_INVALID',
      'Invalid configuration:\n  SCIMCAST_JWT_ISSUER, SCIMCAST_JWT_AUDIENCE and SCIMCAST_JWT_JWKS_URL must be set together',
    );
  }
  if (e.SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS && !e.SCIMCAST_KEY_ENCRYPTION_KEY) {
    throw new AppError(
      'ERR_CONFIG_INVALID',
      `Invalid configuration:\n  ${KEK_PREVIOUS_SETTING} is read only together with ${KEK_SETTING} (a rotation: the new key in ${KEK_SETTING}, the old one in ${KEK_PREVIOUS_SETTING})`,
    );
  }
  const hostForUrl = e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST;
  const config: Config = {
    host: e.HOST,
    port: e.PORT,
    baseUrl: (e.BASE_URL ?? `http://${hostForUrl}:${e.PORT}`).replace(/\/+$/, ''),
    databaseUrl: e.DATABASE_URL,
    logLevel: e.LOG_LEVEL,
    dataDir: e.SCIMCAST_DATA_DIR,
    bootstrapToken: e.SCIMCAST_BOOTSTRAP_TOKEN,
    bulk: { maxOperations: e.SCIMCAST_BULK_MAX_OPERATIONS, maxPayloadSize: e.SCIMCAST_BULK_MAX_PAYLOAD_SIZE },
    limits: {
      maxBodySize: e.SCIMCAST_MAX_BODY_SIZE,
      jsonMaxDepth: e.SCIMCAST_JSON_MAX_DEPTH,
      filterMaxResults: e.SCIMCAST_FILTER_MAX_RESULTS,
      filter: { maxLength: e.SCIMCAST_FILTER_MAX_LENGTH, maxNodes: e.SCIMCAST_FILTER_MAX_TERMS, maxDepth: e.SCIMCAST_FILTER_MAX_DEPTH },
      statementTimeoutMs: e.SCIMCAST_STATEMENT_TIMEOUT_MS,
      maxMembersReturned: e.SCIMCAST_MAX_MEMBERS_RETURNED,
    },
    rateLimit:
      e.SCIMCAST_RATE_LIMIT > 0
        ? { rate: e.SCIMCAST_RATE_LIMIT, burst: e.SCIMCAST_RATE_BURST ?? Math.max(1, Math.ceil(2 * e.SCIMCAST_RATE_LIMIT)) }
        : undefined,
    jwt: e.SCIMCAST_JWT_ISSUER
      ? {
          issuer: e.SCIMCAST_JWT_ISSUER,
          audience: e.SCIMCAST_JWT_AUDIENCE!,
          jwksUrl: e.SCIMCAST_JWT_JWKS_URL!,
          scopeClaim: e.SCIMCAST_JWT_SCOPE_CLAIM,
          requireAtTyp: e.SCIMCAST_JWT_REQUIRE_AT_TYP,
        }
      : undefined,
    tokenCacheTtlMs: e.SCIMCAST_TOKEN_CACHE_TTL_MS,
    worker: { concurrency: e.SCIMCAST_WORKER_CONCURRENCY, deadAfterMs: e.SCIMCAST_WORKER_DEAD_AFTER_MS },
    shutdownTimeoutMs: e.SCIMCAST_SHUTDOWN_TIMEOUT_MS,
    apiProcesses: e.SCIMCAST_API_PROCESSES,
    passwordHashConcurrency: e.SCIMCAST_PASSWORD_HASH_CONCURRENCY ?? defaultPasswordHashConcurrency(),
    compat: compatOf(e),
    metrics: { port: e.SCIMCAST_METRICS_PORT, host: e.SCIMCAST_METRICS_HOST },
    events: {
      pushAllow: e.SCIMCAST_PUSH_ALLOW.split(',').map((h) => h.trim()).filter(Boolean),
      pollTimeoutMs: e.SCIMCAST_POLL_TIMEOUT_MS,
      pollMaxTimeoutMs: e.SCIMCAST_POLL_MAX_TIMEOUT_MS,
      pollPageCap: e.SCIMCAST_POLL_PAGE_CAP,
      retentionDays: e.SCIMCAST_EVENT_RETENTION_DAYS,
      signingAlg: e.SCIMCAST_SIGNING_ALG,
      asyncRetentionDays: e.SCIMCAST_ASYNC_RETENTION_DAYS,
      asyncMaxAttempts: e.SCIMCAST_ASYNC_MAX_ATTEMPTS,
      asyncPriorityAgingMs: e.SCIMCAST_ASYNC_PRIORITY_AGING_MS,
      pushTimeoutMs: e.SCIMCAST_PUSH_TIMEOUT_MS,
      pushBackoffBaseMs: e.SCIMCAST_PUSH_BACKOFF_BASE_MS,
      pushBackoffCapMs: e.SCIMCAST_PUSH_BACKOFF_CAP_MS,
      pushMisbehavingLimit: e.SCIMCAST_PUSH_MISBEHAVING_LIMIT,
      pushPoolSize: e.SCIMCAST_PUSH_POOL_SIZE,
      pushSweepMs: e.SCIMCAST_PUSH_SWEEP_MS,
      pushLoopback: listensOnLoopbackOnly(e.HOST),
      streamsMaxPerOwner: e.SCIMCAST_STREAMS_MAX_PER_OWNER,
      streamsMax: e.SCIMCAST_STREAMS_MAX,
      callbackMaxAttempts: e.SCIMCAST_CALLBACK_MAX_ATTEMPTS,
    },
    keyEncryption: e.SCIMCAST_KEY_ENCRYPTION_KEY
      ? { current: kekOf(e.SCIMCAST_KEY_ENCRYPTION_KEY), previous: e.SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS ? kekOf(e.SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS) : undefined }
      : undefined,
  };
  return deepFreeze(config);
}

/**
 * One core is left to the event loop (and, on a small machine, PostgreSQL), and at most 3 of the
 * libuv threadpool's default 4 threads are taken, so DNS lookups and file access keep one.
 */
function defaultPasswordHashConcurrency(): number {
  return Math.max(1, Math.min(availableParallelism() - 1, 3));
}

/** Validated by the schema already; a KeyObject from here on. */
function kekOf(v: string) {
  const parsed = parseKeyEncryptionKey(v);
  if ('error' in parsed) throw new AppError('ERR_CONFIG_INVALID', `Invalid configuration:\n  ${KEK_SETTING}: ${parsed.error}`);
  return parsed.key;
}

/**
 * HOST is a loopback address or name: nothing off this machine can reach the server, so whoever
 * registers a stream is local too, and a push to loopback shows them nothing they could not see.
 */
function listensOnLoopbackOnly(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Only the keys we know: unrelated environment never reaches the schema. */
function pick(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const key of Object.keys(envSchema.shape)) if (env[key] !== undefined) out[key] = env[key];
  return out;
}


/** Every client-compatibility coercion is its own switch; an unset switch follows SCIMCAST_STRICT. */
function compatOf(e: Env): ClientCompat {
  const on = (v: boolean | undefined) => v ?? !e.SCIMCAST_STRICT;
  return {
    strict: e.SCIMCAST_STRICT,
    stringBooleans: on(e.SCIMCAST_COMPAT_STRING_BOOLEANS),
    opCase: on(e.SCIMCAST_COMPAT_OP_CASE),
    memberValueRemove: on(e.SCIMCAST_COMPAT_MEMBER_VALUE_REMOVE),
    managerString: on(e.SCIMCAST_COMPAT_MANAGER_STRING),
    dottedKeys: on(e.SCIMCAST_COMPAT_DOTTED_KEYS),
    absentMultiValueFilter: on(e.SCIMCAST_COMPAT_ABSENT_FILTER_TARGET),
    coreServiceProviderConfig: e.SCIMCAST_COMPAT_CORE_SPC,
    // Not an IdP coercion: off unless asked for, strict or not.
    memberDisplay: e.SCIMCAST_COMPAT_MEMBER_DISPLAY,
  };
}
