import { z } from 'zod';
import { parseKeyEncryptionKey } from '../core/secret-box.js';

/**
 * Every setting scimcast reads, with its default and the reason; docs/configuration.md is generated
 * from it (npm run docs:config). Names are SCIMCAST_* except the conventional HOST, PORT, BASE_URL,
 * DATABASE_URL and LOG_LEVEL.
 */
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optionalBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v === 'true' || v === '1' || v === 'yes'));
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
/** A key-encryption key: checked here, turned into a KeyObject by load.ts. The message never quotes the value. */
const keyEncryptionKey = optionalString.superRefine((v, ctx) => {
  if (v === undefined) return;
  const parsed = parseKeyEncryptionKey(v);
  if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
});

export const envSchema = z.object({
  /** Loopback by default: nothing listens publicly unless asked. */
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(8080, 0).refine((p) => p <= 65535, 'must be a port number (0-65535)'),
  /** Scheme + host + port, no path; used in meta.location, Location and as the SET/SSF issuer. */
  BASE_URL: optionalString.pipe(z.url().optional()),
  /** Unset: an embedded PostgreSQL is started under SCIMCAST_DATA_DIR. */
  DATABASE_URL: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SCIMCAST_DATA_DIR: z.string().min(1).default('./.scimcast'),
  /** Accepted on every start as a token with all scopes, so scripts and containers need no setup step. */
  SCIMCAST_BOOTSTRAP_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** RFC 7644 §3.7.4: maxOperations / maxPayloadSize, advertised in ServiceProviderConfig. */
  SCIMCAST_BULK_MAX_OPERATIONS: int(10_000, 1),
  SCIMCAST_BULK_MAX_PAYLOAD_SIZE: int(16 * 1024 * 1024, 1024),
  /** Body limit for every non-bulk request. */
  SCIMCAST_MAX_BODY_SIZE: int(1024 * 1024, 1024),
  /** JSON nesting bound (hostile input); deeper bodies get 400 invalidSyntax. */
  SCIMCAST_JSON_MAX_DEPTH: int(64, 4),
  /** RFC 7644 §3.4.2.4 / SPC filter.maxResults. */
  SCIMCAST_FILTER_MAX_RESULTS: int(200, 1),
  /**
   * Bounds on hostile filters: characters of filter text, attribute expressions (each one is
   * SQL to evaluate) and nesting of `()`/`[]`. Beyond a bound: 400 invalidFilter naming it.
   */
  SCIMCAST_FILTER_MAX_LENGTH: int(4096, 16),
  SCIMCAST_FILTER_MAX_TERMS: int(200, 1),
  SCIMCAST_FILTER_MAX_DEPTH: int(32, 1),
  /**
   * PostgreSQL statement_timeout of every pooled connection, in ms (0: none). A pathological
   * filter or a huge member list must not hold a connection, and a request thread, for minutes.
   * Applies per statement to API requests and to the worker's jobs that replay them (async
   * requests): the same operation must not succeed asynchronously and fail synchronously.
   * Migrations and the hourly prune lift it for themselves (no client input drives them, and a
   * bound would leave a large backlog cancelled at every run).
   */
  SCIMCAST_STATEMENT_TIMEOUT_MS: int(30_000, 0),
  /**
   * Most Group members one response carries (a group, or all groups of a list page together).
   * More is 400 tooMany telling the client to use excludedAttributes=members and page the members
   * through a filter: a 1,000,000-member group is not loaded into memory for one GET.
   */
  SCIMCAST_MAX_MEMBERS_RETURNED: int(10_000, 1),
  /**
   * Per-client token bucket: requests per second per token (per address when
   * unauthenticated); 0 turns it off, the default, so existing deployments keep their behaviour.
   * Burst defaults to twice the rate (at least 1).
   */
  SCIMCAST_RATE_LIMIT: z.coerce.number().min(0).default(0),
  SCIMCAST_RATE_BURST: optionalString.transform((v) => (v === undefined ? undefined : Number(v))).pipe(z.number().int().min(1).optional()),
  /** JWT access tokens (optional): verified against this issuer, audience and JWKS. */
  SCIMCAST_JWT_ISSUER: optionalString,
  SCIMCAST_JWT_AUDIENCE: optionalString,
  SCIMCAST_JWT_JWKS_URL: optionalString.pipe(z.url().optional()),
  /** Claim holding space-separated scopes (RFC 8693 `scope`). */
  SCIMCAST_JWT_SCOPE_CLAIM: z.string().min(1).default('scope'),
  /**
   * RFC 9068 §4: only a JWT with `typ: at+jwt` is an access token, so an ID token or another JWT
   * from the same issuer cannot stand in for one. Off, for issuers that do not set it: no `typ` or
   * the generic `JWT` is also taken, and any other `typ` is still refused.
   */
  SCIMCAST_JWT_REQUIRE_AT_TYP: bool(true),
  /**
   * How long a verified opaque token is answered from memory, in ms (0: every request reads the
   * database, as before). A revocation reaches every API process at once by NOTIFY; this is the
   * bound only when that notification is lost (a LISTEN connection dropped silently, a row changed
   * by hand). At most a minute, so a revoked token never lives on for long.
   */
  SCIMCAST_TOKEN_CACHE_TTL_MS: int(5_000, 0).pipe(z.number().max(60_000)),
  SCIMCAST_WORKER_CONCURRENCY: int(4, 1),
  /**
   * A worker without a heartbeat for this long counts as dead (SIGKILL, OOM, lost host): live
   * workers release its job locks and /readyz stops counting it. Heartbeats go every sixth of it.
   */
  SCIMCAST_WORKER_DEAD_AFTER_MS: int(30_000, 600),
  /** Graceful shutdown bound: in-flight requests get this long to finish. */
  SCIMCAST_SHUTDOWN_TIMEOUT_MS: int(10_000, 0),
  /**
   * API processes `scimcast start` runs on the one port (node:cluster: the first process owns the
   * database, the worker process and the signals, and hands connections to the API processes in
   * turn). One event loop saturates one core on JSON, HTTP and pg protocol work while PostgreSQL
   * waits on its own cores, so more processes help only when the machine has cores left beside
   * the database. 1, the default, is no cluster at all: on 2 cores shared with PostgreSQL, 2 and 3
   * processes measured slower (bench api-processes), and a core count alone cannot tell whether
   * PostgreSQL shares the machine. Each process holds its own pool of 20 connections. `serve` and
   * `worker` are always one process (scale those with replicas).
   */
  SCIMCAST_API_PROCESSES: int(1, 1).pipe(z.number().max(64)),
  /**
   * User password hashes (scrypt, about 50 ms of CPU each) computed at once, off the event loop on
   * the libuv threadpool (4 threads unless UV_THREADPOOL_SIZE says otherwise, shared with DNS
   * lookups and file access). Unset: max(1, min(cores − 1, 3)), which leaves a core to serve
   * requests and a pool thread to DNS. More than the threadpool size would queue DNS behind hashes.
   */
  SCIMCAST_PASSWORD_HASH_CONCURRENCY: optionalString.transform((v) => (v === undefined ? undefined : Number(v))).pipe(z.number().int().min(1).max(64).optional()),
  /**
   * Push targets allowed over plain http or to private addresses, comma-separated hosts
   * (docs/decisions/0008-loopback-push.md).
   */
  SCIMCAST_PUSH_ALLOW: z.string().default(''),
  /** RFC 8935 push: per-request timeout, backoff bounds, and non-RFC answers tolerated before disabling. */
  SCIMCAST_PUSH_TIMEOUT_MS: int(10_000, 100),
  SCIMCAST_PUSH_BACKOFF_BASE_MS: int(1_000, 1),
  SCIMCAST_PUSH_BACKOFF_CAP_MS: int(300_000, 1),
  SCIMCAST_PUSH_MISBEHAVING_LIMIT: int(3, 1),
  /**
   * PostgreSQL connections of a worker process's push delivery, its own pool (plus one held for
   * LISTEN and the stream leases): delivery never queues behind API requests or worker jobs. Each
   * stream being delivered uses one at a time, between its HTTP requests.
   */
  SCIMCAST_PUSH_POOL_SIZE: int(4, 1),
  /**
   * Push streams wake on the NOTIFY of their SETs' commit; this sweep, every so often, finds
   * pending SETs no NOTIFY announced (one sent while reconnecting) and streams whose serving
   * worker died. It bounds how long those wait, not the normal push latency.
   */
  SCIMCAST_PUSH_SWEEP_MS: int(2_000, 50),
  /**
   * Attempts to push one SET to a per-request callback (Prefer callback="…") before it goes to the
   * dead letter. A stream retries for the whole retention, since its owner can pause, fix and
   * redrive it; a callback is one-shot, its requester can read every result from the status
   * resource, and a target that keeps failing should not hold a push loop for days. With the
   * push backoff's defaults, 10 attempts span about 7 minutes on average and 14 at most (longer
   * only when the receiver sends Retry-After).
   */
  SCIMCAST_CALLBACK_MAX_ATTEMPTS: int(10, 1),
  /** RFC 8936 long poll: default wait and the most a client may ask for (timeoutSecs). */
  SCIMCAST_POLL_TIMEOUT_MS: int(30_000, 0),
  SCIMCAST_POLL_MAX_TIMEOUT_MS: int(300_000, 0),
  /** Most SETs one poll response carries when maxEvents is absent. */
  SCIMCAST_POLL_PAGE_CAP: int(1_000, 1),
  /** Unacknowledged SETs older than this become dead with reason "expired" (RFC 8936 §2: local retention policy). */
  SCIMCAST_EVENT_RETENTION_DAYS: int(7, 1),
  /** How long async transactions and their results stay retrievable at their Location; afterwards 404. */
  SCIMCAST_ASYNC_RETENTION_DAYS: int(7, 1),
  /**
   * Attempts of an async request's job before it is given up (graphile-worker backs off
   * exponentially, so 25 spans days); then the request is `failed` and every operation without a
   * result gets a 500 result with its asyncresp, so a client waiting for one SET per operation
   * (RFC 9967 §2.5.1.2) is not left waiting.
   */
  SCIMCAST_ASYNC_MAX_ATTEMPTS: int(25, 1),
  /**
   * Prefer priority=…: a queued async request that has waited this long moves up one level
   * (low → normal → high), so no priority starves: a low request waits at most twice this, plus
   * the high-priority work admitted before it.
   */
  SCIMCAST_ASYNC_PRIORITY_AGING_MS: int(30_000, 100),
  /** SET signing algorithm for new keys (RFC 8417 §5.1: signed with JWS); existing keys keep theirs. */
  SCIMCAST_SIGNING_ALG: z.enum(['ES256', 'RS256', 'EdDSA']).default('ES256'),
  /**
   * Secrets at rest: signing private keys and push authorization_header values are stored
   * AES-256-GCM encrypted under this key (32 random bytes, hex or base64/base64url). Unset: they
   * are stored in plaintext, readable by anyone who can read the database or its backups.
   */
  SCIMCAST_KEY_ENCRYPTION_KEY: keyEncryptionKey,
  /** The key before a rotation: values it encrypted are still read, and re-encrypted at start. */
  SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS: keyEncryptionKey,
  /**
   * Streams per owner (token principal) and per deployment. Every change is signed and stored
   * once per stream, in the change's own transaction, so streams are a cost on every write: 100
   * streams add about 100 signatures (some 20 ms of one core at the benchmark's ~5,000 ES256
   * signs/s) to a one-user change. A receiver needs one stream or a few (per profile or
   * environment); 20 per owner leaves room for that while one token cannot take more than a
   * fifth of the deployment's budget. Creating more answers 409 (SSF 1.0 §8.1.1.1).
   */
  SCIMCAST_STREAMS_MAX_PER_OWNER: int(20, 1),
  SCIMCAST_STREAMS_MAX: int(100, 1),
  /**
   * A second listener serving /metrics without a token, also in worker-only
   * processes; unset means /metrics only on the main port with a metrics:read token.
   */
  SCIMCAST_METRICS_PORT: optionalString.transform((v) => (v === undefined ? undefined : Number(v))).pipe(z.number().int().min(0).max(65535).optional()),
  /** Loopback by default: the token-less listener should not be reachable from outside. */
  SCIMCAST_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Entra ID / Okta coercions of input RFC 7644 does not allow (scim/compat.ts); strict mode turns all of them off. */
  SCIMCAST_STRICT: bool(false),
  /** Each coercion on its own; unset follows SCIMCAST_STRICT (on when lenient, off when strict). */
  SCIMCAST_COMPAT_STRING_BOOLEANS: optionalBool,
  SCIMCAST_COMPAT_OP_CASE: optionalBool,
  SCIMCAST_COMPAT_MEMBER_VALUE_REMOVE: optionalBool,
  SCIMCAST_COMPAT_MANAGER_STRING: optionalBool,
  SCIMCAST_COMPAT_DOTTED_KEYS: optionalBool,
  SCIMCAST_COMPAT_ABSENT_FILTER_TARGET: optionalBool,
  /**
   * Serve a ServiceProviderConfig with only the RFC 7643 §5 attributes, for strict clients whose
   * model refuses unknown ones (RFC 9865 `pagination`, RFC 9967 `securityEvents`). Off by default
   * and independent of SCIMCAST_STRICT: it hides capabilities rather than coercing input, and
   * the server keeps offering them (cursor paging, async requests) whether advertised or not.
   */
  SCIMCAST_COMPAT_CORE_SPC: bool(false),
  /**
   * Fill a Group member's `display` from the member's displayName (a Group) or userName (a User)
   * when the client sent none, as scimcast did before. Off by default, whatever SCIMCAST_STRICT
   * says: a client that compares what it wrote with what it reads back (RFC 7643 §8.7.1 defines
   * only `value`, `$ref` and `type` for members) sees a `display` it never sent as a difference.
   * For clients that show members by that name without looking each one up.
   */
  SCIMCAST_COMPAT_MEMBER_DISPLAY: bool(false),
});

export type Env = z.infer<typeof envSchema>;
