/**
 * npm run docs:config: writes docs/configuration.md from the env schema (src/config/schema.ts),
 * one row per variable, in the schema's order. The default column comes from the schema itself
 * (each key parsed with nothing set); the meaning column comes from DESCRIPTIONS below, written
 * for operators rather than for the code's reader. test/docs/configuration.test.ts fails when the
 * committed file differs from what this writes, when a schema key has no description, or when a
 * description names a key the schema no longer has.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { envSchema } from '../src/config/schema.js';

export interface Description {
  /** What the variable does, as one Markdown table cell (links are relative to docs/). */
  meaning: string;
  /** The default column when the schema has no default (the value is derived, or the setting is off). */
  whenUnset?: string;
  /** Words after the schema's default, for example "(off)". */
  defaultNote?: string;
}

const STRICT_LINK = 'See [Client compatibility](client-compatibility.md).';
const FOLLOWS_STRICT = 'follows `SCIMCAST_STRICT`';
const JWT_TRIO = 'Set all three of `SCIMCAST_JWT_ISSUER`, `SCIMCAST_JWT_AUDIENCE` and `SCIMCAST_JWT_JWKS_URL`, or none: together they turn on JWT access tokens. See [Authentication](auth.md).';

export const DESCRIPTIONS: Record<string, Description> = {
  HOST: { meaning: 'Listen address.' },
  PORT: { meaning: 'Listen port.' },
  BASE_URL: {
    meaning: 'Scheme, host and port, with no path. Used in `meta.location` and `Location`, and as the SET issuer.',
    whenUnset: '`http://HOST:PORT`',
  },
  DATABASE_URL: { meaning: 'A PostgreSQL (12+) URL. Unset means the embedded PostgreSQL. See [Running on your own PostgreSQL](own-postgresql.md).' },
  LOG_LEVEL: {
    meaning:
      "One of `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. Logs are JSON with a request id. Authorization headers are redacted. It covers the `scimcast` commands' own log lines too (`starting embedded PostgreSQL`, process restarts); a command's error message is always printed.",
  },
  SCIMCAST_DATA_DIR: { meaning: 'Where the embedded PostgreSQL keeps its data.' },
  SCIMCAST_BOOTSTRAP_TOKEN: { meaning: 'A token (16+ characters) accepted with all scopes on every start.' },
  SCIMCAST_BULK_MAX_OPERATIONS: { meaning: 'The bulk `maxOperations` (RFC 7644 §3.7.4).' },
  SCIMCAST_BULK_MAX_PAYLOAD_SIZE: { meaning: 'The bulk `maxPayloadSize` in bytes.' },
  SCIMCAST_MAX_BODY_SIZE: { meaning: 'Body limit for every other request. A larger body gets 413.' },
  SCIMCAST_JSON_MAX_DEPTH: { meaning: 'Maximum JSON nesting. Deeper bodies get 400 `invalidSyntax`.' },
  SCIMCAST_FILTER_MAX_RESULTS: { meaning: 'The `filter.maxResults` value, and the largest page size.' },
  SCIMCAST_FILTER_MAX_LENGTH: { meaning: 'Bound on one filter: its characters. Beyond it: 400 `invalidFilter` naming it.' },
  SCIMCAST_FILTER_MAX_TERMS: { meaning: 'Bound on one filter: its attribute expressions. Beyond it: 400 `invalidFilter` naming it.' },
  SCIMCAST_FILTER_MAX_DEPTH: { meaning: 'Bound on one filter: its nesting of `()`/`[]`. Beyond it: 400 `invalidFilter` naming it.' },
  SCIMCAST_STATEMENT_TIMEOUT_MS: {
    meaning:
      'PostgreSQL `statement_timeout` of every pooled connection (`0`: none). API requests and the async jobs that replay them are bound by it; migrations and the hourly prune lift it. A request that hits it gets a SCIM error, and the connection is freed.',
  },
  SCIMCAST_MAX_MEMBERS_RETURNED: {
    meaning:
      'The most Group members one response carries (one group, or the groups of a list page together). Beyond it: 400 `tooMany`; read the group with `excludedAttributes=members` and page its User members with `GET /Users?filter=groups.value eq "<id>"`.',
  },
  SCIMCAST_RATE_LIMIT: {
    meaning:
      'Requests per second per client: per token, or per address without one. Beyond it: 429 with `Retry-After`. Failed token guesses are limited per address. `/healthz` and `/readyz` are exempt. Each process counts on its own.',
    defaultNote: '(off)',
  },
  SCIMCAST_RATE_BURST: { meaning: 'The bucket size: how many requests may come at once.', whenUnset: 'twice the rate' },
  SCIMCAST_JWT_ISSUER: { meaning: `The issuer of JWT access tokens. ${JWT_TRIO}` },
  SCIMCAST_JWT_AUDIENCE: { meaning: `The audience of JWT access tokens. ${JWT_TRIO}` },
  SCIMCAST_JWT_JWKS_URL: { meaning: `Where the issuer's JWKS is fetched. ${JWT_TRIO}` },
  SCIMCAST_JWT_SCOPE_CLAIM: { meaning: 'The claim that holds the scopes.' },
  SCIMCAST_JWT_REQUIRE_AT_TYP: {
    meaning:
      'Accept only JWTs whose `typ` is `at+jwt` (or `application/at+jwt`) as access tokens (RFC 9068 §2.1). `false`, for issuers that do not set it: no `typ` or `JWT` is also accepted; any other `typ` (for example `secevent+jwt`) is still refused.',
  },
  SCIMCAST_TOKEN_CACHE_TTL_MS: {
    meaning:
      'How long each API process answers a verified opaque token from memory, in ms (at most 60000; `0` turns the cache off). Revocation reaches every process at once by PostgreSQL NOTIFY; this is the bound only when that notification is lost unnoticed or `api_tokens` is edited by hand.',
  },
  SCIMCAST_WORKER_CONCURRENCY: { meaning: 'Jobs one worker process runs at once. graphile-worker fetches and completes them on a PostgreSQL pool of its own, of this many connections plus two.' },
  SCIMCAST_WORKER_DEAD_AFTER_MS: {
    meaning:
      'A worker with no heartbeat for this long is dead (killed, lost host): live workers release its jobs, and `/readyz` stops counting it. Workers beat every sixth of it.',
  },
  SCIMCAST_SHUTDOWN_TIMEOUT_MS: {
    meaning:
      'How long shutdown waits for in-flight work. On SIGTERM or SIGINT `/readyz` answers 503 at once; the listener closes half a second later, requests already received are answered, queued async work stays queued.',
  },
  SCIMCAST_API_PROCESSES: {
    meaning:
      'API processes that `scimcast start` runs on the one port (node:cluster); 1 is no cluster. Each holds up to 20 PostgreSQL connections. `serve` and `worker` always run one process. See [How many API processes](operating.md#how-many-api-processes).',
  },
  SCIMCAST_PASSWORD_HASH_CONCURRENCY: {
    meaning:
      'How many password hashes (scrypt, about 50 ms of CPU each) run at once, off the event loop on the libuv threadpool, which DNS lookups and file access also use. Range 1–64.',
    whenUnset: '`max(1, min(cores − 1, 3))`',
  },
  SCIMCAST_PUSH_ALLOW: {
    meaning:
      'Comma-separated hosts allowed over plain http or on private addresses. Loopback targets are allowed without it only while `HOST` is a loopback address. See [Target checks](push.md#target-checks).',
  },
  SCIMCAST_PUSH_TIMEOUT_MS: { meaning: 'The connect, headers and body timeout of one push.' },
  SCIMCAST_PUSH_BACKOFF_BASE_MS: { meaning: 'The lower bound of the push retry backoff.' },
  SCIMCAST_PUSH_BACKOFF_CAP_MS: { meaning: 'The upper bound of the push retry backoff.' },
  SCIMCAST_PUSH_MISBEHAVING_LIMIT: { meaning: 'Consecutive non-202 2xx or 3xx answers to one SET before a push stream is disabled.' },
  SCIMCAST_PUSH_POOL_SIZE: {
    meaning:
      'PostgreSQL connections for push delivery in each worker process, a pool of its own (plus one held for `LISTEN` and the stream leases). Delivery never queues behind API requests or worker jobs.',
  },
  SCIMCAST_PUSH_SWEEP_MS: {
    meaning:
      'How often each worker looks for push streams with pending SETs that no `NOTIFY` announced, or whose serving worker died. It bounds how long such a stream waits to be taken over, not the normal push latency.',
  },
  SCIMCAST_CALLBACK_MAX_ATTEMPTS: {
    meaning:
      'Attempts to push one SET to a per-request callback before it is dead (`err: "undeliverable"`); with the push backoff defaults, 10 span about 7 minutes. See [Per-request callbacks](async-requests.md#per-request-callbacks-a-scimcast-extension).',
  },
  SCIMCAST_POLL_TIMEOUT_MS: { meaning: 'The default long-poll wait.' },
  SCIMCAST_POLL_MAX_TIMEOUT_MS: { meaning: 'The most long-poll wait a client may ask for.' },
  SCIMCAST_POLL_PAGE_CAP: { meaning: 'The most SETs one poll returns when `maxEvents` is absent.' },
  SCIMCAST_EVENT_RETENTION_DAYS: {
    meaning:
      'SETs left unacknowledged or undelivered this long (counted from when they were stored, redriven or replayed) become dead with reason `expired`. Finished SETs are deleted after it.',
  },
  SCIMCAST_ASYNC_RETENTION_DAYS: { meaning: 'How long async requests and their results stay retrievable.' },
  SCIMCAST_ASYNC_MAX_ATTEMPTS: { meaning: "Attempts of an async request's job before it is given up as `failed`." },
  SCIMCAST_ASYNC_PRIORITY_AGING_MS: {
    meaning: 'A queued async request that has waited this long moves up one priority level (`Prefer: priority=`), so none starves.',
  },
  SCIMCAST_SIGNING_ALG: { meaning: 'The algorithm for new SET signing keys: `ES256`, `RS256` or `EdDSA`.' },
  SCIMCAST_KEY_ENCRYPTION_KEY: {
    meaning:
      'Key-encryption key for secrets at rest: 32 random bytes as 64 hex digits or base64/base64url (`openssl rand -base64 32`); short or placeholder values stop the start. Set: signing private keys and push `authorization_header` values are stored AES-256-GCM encrypted, and each start encrypts older plaintext values. **Unset: they are stored in plaintext**, readable by anyone who can read the database or its backups. Admin commands need the same value.',
  },
  SCIMCAST_KEY_ENCRYPTION_KEY_PREVIOUS: {
    meaning:
      'The key before a rotation: values under it are still read, and each start re-encrypts them under `SCIMCAST_KEY_ENCRYPTION_KEY`. Only together with `SCIMCAST_KEY_ENCRYPTION_KEY`.',
  },
  SCIMCAST_STREAMS_MAX_PER_OWNER: {
    meaning: 'The most streams one owner (token principal) may hold; disabled ones count too. A create over it answers 409.',
  },
  SCIMCAST_STREAMS_MAX: { meaning: 'The most streams the whole deployment may hold. A create over it answers 409.' },
  SCIMCAST_METRICS_PORT: {
    meaning: 'Serve `/metrics` without a token on this port as well, in API and worker processes. `0` picks a free port. See [Metrics](metrics.md).',
  },
  SCIMCAST_METRICS_HOST: { meaning: 'The address of the `SCIMCAST_METRICS_PORT` listener.' },
  SCIMCAST_STRICT: {
    meaning: `Turns off the lenient coercions for real IdPs (for example \`"True"\` as a boolean). ${STRICT_LINK}`,
  },
  SCIMCAST_COMPAT_STRING_BOOLEANS: {
    meaning: `Accept \`"True"\` / \`"False"\` for booleans (Entra ID), in POST, PUT and PATCH. ${STRICT_LINK}`,
    whenUnset: FOLLOWS_STRICT,
  },
  SCIMCAST_COMPAT_OP_CASE: { meaning: `Accept \`"Add"\`, \`"Replace"\`, \`"Remove"\` as \`op\` (Entra ID). ${STRICT_LINK}`, whenUnset: FOLLOWS_STRICT },
  SCIMCAST_COMPAT_MEMBER_VALUE_REMOVE: {
    meaning: `\`{"op":"Remove","path":"members","value":[{"value":"<id>"}]}\` removes exactly those members (Entra ID). ${STRICT_LINK}`,
    whenUnset: FOLLOWS_STRICT,
  },
  SCIMCAST_COMPAT_MANAGER_STRING: {
    meaning: `Accept \`…:enterprise:2.0:User:manager\` with a bare id string as the value (Entra ID). ${STRICT_LINK}`,
    whenUnset: FOLLOWS_STRICT,
  },
  SCIMCAST_COMPAT_DOTTED_KEYS: {
    meaning: `Accept paths as keys in a path-less value: \`{"name.givenName": "Jo"}\`, \`{"urn:…:User:department": "x"}\` (Entra ID, Okta). ${STRICT_LINK}`,
    whenUnset: FOLLOWS_STRICT,
  },
  SCIMCAST_COMPAT_ABSENT_FILTER_TARGET: {
    meaning: `add/replace on \`emails[type eq "work"].value\` when no such value exists creates \`{"type":"work","value":…}\` (Entra ID). Only filters made of \`eq\` terms joined by \`and\`. ${STRICT_LINK}`,
    whenUnset: FOLLOWS_STRICT,
  },
  SCIMCAST_COMPAT_CORE_SPC: {
    meaning: `\`true\`: \`/ServiceProviderConfig\` carries only RFC 7643 §5 attributes (no \`pagination\`, no \`securityEvents\`), for client libraries that refuse any other. Nothing else changes, and \`SCIMCAST_STRICT\` does not turn it on. ${STRICT_LINK}`,
  },
  SCIMCAST_COMPAT_MEMBER_DISPLAY: {
    meaning: `\`true\`: a Group member sent without \`display\` reads with its \`displayName\` (a Group) or \`userName\` (a User), filters on \`members.display\` compare that name, and \`/Schemas\` says so. \`SCIMCAST_STRICT\` does not turn it on. ${STRICT_LINK}`,
  },
};

/** Every variable the schema reads, in the schema's order. */
export function schemaKeys(): string[] {
  return Object.keys(envSchema.shape);
}

/** What the schema gives a variable when the environment does not set it (undefined: no default). */
export function schemaDefault(key: string): unknown {
  const field = (envSchema.shape as Record<string, { parse(v: unknown): unknown }>)[key];
  if (!field) throw new Error(`${key} is not in the env schema`);
  return field.parse(undefined);
}

function defaultCell(key: string, d: Description): string {
  const value = schemaDefault(key);
  if (value === undefined) return d.whenUnset ?? 'unset';
  const shown = value === '' ? 'empty' : `\`${String(value)}\``;
  return d.defaultNote ? `${shown} ${d.defaultNote}` : shown;
}

/** The whole of docs/configuration.md. Throws when a schema key has no description. */
export function renderConfigurationDoc(): string {
  const missing = schemaKeys().filter((k) => !(k in DESCRIPTIONS));
  if (missing.length > 0) throw new Error(`no description in scripts/docs-config.ts for ${missing.join(', ')}`);
  const rows = schemaKeys().map((key) => {
    const d = DESCRIPTIONS[key]!;
    return `| \`${key}\` | ${defaultCell(key, d)} | ${d.meaning} |`;
  });
  return [
    '<!-- Generated by `npm run docs:config` from src/config/schema.ts and scripts/docs-config.ts. Edit those, not this file. -->',
    '# Configuration',
    '',
    'Configuration is read once from the environment, validated, and frozen. An invalid value stops the',
    'start with a message that names the key. Every variable scimcast reads is below, in the order of',
    '`src/config/schema.ts`.',
    '',
    '| Variable | Default | Meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

export const CONFIGURATION_DOC = join(import.meta.dirname, '../docs/configuration.md');

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(CONFIGURATION_DOC, renderConfigurationDoc());
  console.log(`wrote ${CONFIGURATION_DOC}`);
}
