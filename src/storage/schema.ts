import { sql, type SQL } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * The lower-cased email values of a User document, newline-separated (SQL function of
 * drizzle/0001_pg_trgm_email_values.sql). Both the trigram index below and the filter's
 * prefilter (substring-index.ts) call it, so the planner matches one to the other.
 */
export const emailValues = (doc: AnyPgColumn | SQL): SQL => sql`scim_email_values(${doc})`;

/**
 * Trigram GIN indexes keep their fast-update pending list (measured: inserts as fast as with the
 * default, about 4× faster than fastupdate=off), but at 256 kB instead of 4 MB: every search reads
 * the whole pending list, so its size bounds what a search costs on top of the index (about 30
 * pages instead of up to 500).
 */
const TRGM_WITH = { gin_pending_list_limit: 256 };

/**
 * One row per SCIM resource: indexed columns for what clients filter on, a JSONB
 * document for the rest. `version` is the row version counter behind meta.version / ETag.
 */
export const resources = pgTable(
  'resources',
  {
    id: uuid('id').primaryKey(),
    resourceType: text('resource_type').notNull(),
    userName: text('user_name'),
    externalId: text('external_id'),
    displayName: text('display_name'),
    active: boolean('active'),
    /** Everything but id, meta, members and groups (those are columns or tables). */
    doc: jsonb('doc').notNull(),
    version: integer('version').notNull().default(1),
    created: timestamp('created', { withTimezone: true, precision: 3 }).notNull(),
    lastModified: timestamp('last_modified', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [
    // RFC 7643 §4.1: userName is unique and caseExact=false, so uniqueness is case-insensitive.
    uniqueIndex('resources_user_name_ci').on(sql`lower(${t.userName})`).where(sql`${t.resourceType} = 'User'`),
    index('resources_type_external_id').on(t.resourceType, t.externalId),
    index('resources_type_display_name_ci').on(t.resourceType, sql`lower(${t.displayName})`),
    index('resources_type_created').on(t.resourceType, t.created, t.id),
    // pg_trgm GIN indexes for co / sw / ew (substring-index.ts): each indexes exactly the text the
    // filter compiler compares, lower() where the attribute is caseExact=false.
    index('resources_user_name_trgm').using('gin', sql`lower(${t.userName}) gin_trgm_ops`).with(TRGM_WITH),
    index('resources_display_name_trgm').using('gin', sql`lower(${t.displayName}) gin_trgm_ops`).with(TRGM_WITH),
    index('resources_external_id_trgm').using('gin', t.externalId.op('gin_trgm_ops')).with(TRGM_WITH),
    index('resources_email_values_trgm').using('gin', sql`${emailValues(t.doc)} gin_trgm_ops`).with(TRGM_WITH),
  ],
);

/**
 * Group membership in its own table: adding or removing one member touches one row,
 * never the group document or its other members, so a 100,000-member group changes as cheaply
 * as a small one.
 */
export const groupMembers = pgTable(
  'group_members',
  {
    groupId: uuid('group_id')
      .notNull()
      .references(() => resources.id, { onDelete: 'cascade' }),
    memberId: uuid('member_id')
      .notNull()
      .references(() => resources.id, { onDelete: 'cascade' }),
    /** Position of insertion, so members list in a stable order. */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
    /**
     * The `display` the client sent with this member, if any (RFC 7643 §4.2). Kept as sent so a
     * client reads back what it wrote; NULL when it sent none.
     */
    display: text('display'),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.memberId] }), index('group_members_member').on(t.memberId)],
);

/** Opaque bearer tokens, stored as SHA-256 hashes; the secret is shown once at creation. */
export const apiTokens = pgTable('api_tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  scopes: text('scopes').array().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

/** Worker processes record a heartbeat so /readyz on an API-only replica can tell a worker is alive. */
export const workerHeartbeats = pgTable('worker_heartbeats', {
  workerId: text('worker_id').primaryKey(),
  seenAt: timestamp('seen_at', { withTimezone: true }).notNull(),
  /** graphile-worker's own worker ids in this process: their locks are released if the beat stops. */
  graphileWorkerIds: text('graphile_worker_ids').array().notNull().default(sql`'{}'::text[]`),
});

/**
 * SET signing keys (RFC 8417 §2.3: SETs are signed JWTs). The private JWK never leaves storage
 * except to the signer; with SCIMCAST_KEY_ENCRYPTION_KEY set it is stored encrypted
 * (core/secret-box.ts), bound to its kid.
 */
export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  privateJwk: jsonb('private_jwk').notNull(),
  publicJwk: jsonb('public_jwk').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  /** Set when a newer key takes over signing; the public key stays published while SETs need it. */
  retiredAt: timestamp('retired_at', { withTimezone: true }),
  /**
   * `scimcast keys revoke`: the key is no longer published in the JWKS and never signs again; its
   * private JWK is erased. The row stays as the record of the revocation.
   */
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

/** Event feeds, managed as OpenID SSF 1.0 streams (§8.1.1). */
export const feeds = pgTable(
  'feeds',
  {
    id: text('id').primaryKey(),
    owner: text('owner').notNull(),
    aud: text('aud').notNull(),
    description: text('description'),
    deliveryMethod: text('delivery_method').notNull(),
    endpointUrl: text('endpoint_url'),
    /** A receiver secret; with SCIMCAST_KEY_ENCRYPTION_KEY set it is stored encrypted, bound to the feed id. */
    authorizationHeader: text('authorization_header'),
    eventsRequested: text('events_requested').array().notNull(),
    eventsDelivered: text('events_delivered').array().notNull(),
    /**
     * 'rfc9967' | 'draft-03': the per-stream event profile
     * (docs/decisions/0005-event-profiles-rfc9967-and-draft-03.md).
     */
    profile: text('profile').notNull().default('rfc9967'),
    status: text('status').notNull().default('enabled'),
    statusReason: text('status_reason'),
    /** Resource types this feed wants (empty = all). */
    resourceTypes: text('resource_types').array().notNull().default(sql`'{}'::text[]`),
    /** 'ALL' = every subject; 'NONE' = only subjects added through add-subject (SSF 1.0 §7.1 default_subjects). */
    defaultSubjects: text('default_subjects').notNull().default('ALL'),
    kidMode: text('kid_mode').notNull().default('kid'),
    /** Push: how many SETs may be in flight at once (1 = strict order). */
    maxInFlight: integer('max_in_flight').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    /**
     * A per-request callback (Prefer callback="…", a scimcast extension): the one async request
     * whose asyncresp SETs this push feed carries, and nothing else. It is not one of the owner's
     * streams (not listed, not counted against the caps) and is removed once every SET of the
     * request is delivered or dead, or with the request at the end of its retention.
     */
    callbackTxn: text('callback_txn').references((): AnyPgColumn => txns.id, { onDelete: 'cascade' }),
  },
  (t) => [index('feeds_owner').on(t.owner), index('feeds_callback_txn').on(t.callbackTxn).where(sql`${t.callbackTxn} is not null`)],
);

/**
 * Subjects explicitly added to a feed (SSF 1.0 §8.1.3 add/remove subject). Each row keeps the
 * database snapshot of its addition and, once removed, of its removal (the row stays until no
 * change older than the removal is waiting for fan-out): a change is routed by the subjects that
 * held when it committed, not when the worker gets to it (feeds/route-version.ts).
 */
export const feedSubjects = pgTable(
  'feed_subjects',
  {
    feedId: text('feed_id')
      .notNull()
      .references(() => feeds.id, { onDelete: 'cascade' }),
    subjectUri: text('subject_uri').notNull(),
    addedSnapshot: text('added_snapshot').notNull().default(sql`pg_current_snapshot()::text`),
    removedSnapshot: text('removed_snapshot'),
  },
  (t) => [
    primaryKey({ columns: [t.feedId, t.subjectUri] }),
    // Each fan-out batch prunes the removed entries no waiting change needs: found through this
    // index, not by reading every subject of every feed.
    index('feed_subjects_removed').on(t.feedId).where(sql`removed_snapshot is not null`),
  ],
);

/**
 * What decides which changes a feed gets and how they are signed (events delivered, resource
 * types, default subjects, accepting or not, profile, audience, kid mode), one row per version,
 * written by a trigger whenever one of those columns of `feeds` changes (drizzle/0005). `snapshot`
 * is the database snapshot of the writing statement: a change the snapshot already sees committed
 * before this version and is routed by an older one; a change committed before the first version
 * is not this feed's (SSF 1.0: a stream receives the events that happen after it exists).
 */
export const feedVersions = pgTable(
  'feed_versions',
  {
    feedId: text('feed_id')
      .notNull()
      .references(() => feeds.id, { onDelete: 'cascade' }),
    version: bigint('version', { mode: 'number' }).generatedAlwaysAsIdentity(),
    snapshot: text('snapshot').notNull(),
    routing: jsonb('routing').notNull(),
  },
  (t) => [primaryKey({ columns: [t.feedId, t.version] })],
);

/**
 * The outbox of changes: one unsigned row per change (a prov:* change or an operation's
 * asyncresp), written in the transaction of the change whatever the number of streams. The
 * worker's fan-out turns each into the SETs of the feeds that want it and deletes it, in one
 * transaction (feeds/fanout.ts). `xid` is the writing transaction, compared with feed and subject
 * snapshots to route the change as of its commit.
 */
export const changes = pgTable(
  'changes',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** Random, never reused: the seed of the deterministic jti of each of its SETs. */
    id: uuid('id').notNull(),
    xid: text('xid').notNull().default(sql`pg_current_xact_id()::text`),
    /**
     * 'prov' (a resource change), 'asyncresp' (an asynchronous operation's result) or 'stream' (an
     * event about one stream: stream updated, verification, subject added or removed).
     */
    kind: text('kind').notNull(),
    resourceType: text('resource_type').notNull(),
    subjectUri: text('subject_uri').notNull(),
    /** The SET subject (RFC 9967 §2.2 sub_id). */
    subject: jsonb('subject').notNull(),
    /** Canonical event URIs this change can produce; a feed gets those it delivers. */
    uris: text('uris').array().notNull(),
    txnBase: text('txn_base').notNull(),
    /** The operation index within a bulk (txn `<base>:<index>`); null for a single request. */
    opIndex: integer('op_index'),
    /** asyncresp: only the requester's feeds get it. */
    owner: text('owner'),
    /** stream: the one feed it is about and for. */
    feedId: text('feed_id'),
    /** What the event payloads are built from (events/claims.ts): redacted, never a secret. */
    data: jsonb('data').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [
    // The fan-out asks for the smallest writing transaction still waiting after each batch. Rows
    // are inserted and deleted all day, so a scan of the table reads every dead row since the last
    // vacuum (about 2 ms per batch after 3,000 single creates); the index answers from its low end.
    index('changes_xid8').on(sql`(${t.xid}::xid8)`),
  ],
);

/**
 * The SET outbox: one row per (SET, feed), written in the transaction of the change it reports.
 * `seq` is commit order for push and poll. The jti never changes (receivers de-duplicate by it,
 * RFC 8417 §2.2); the bytes only when `scimcast keys revoke` re-signs a SET its revoked key signed
 * (same payload, new signature).
 */
export const events = pgTable(
  'events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    jti: text('jti').notNull().unique(),
    feedId: text('feed_id')
      .notNull()
      .references(() => feeds.id, { onDelete: 'cascade' }),
    txn: text('txn').notNull(),
    eventUri: text('event_uri').notNull(),
    subjectUri: text('subject_uri').notNull(),
    jws: text('jws').notNull(),
    /** pending → delivered (push 202) | acked (poll) | dead (rejected / setErrs / expired). */
    state: text('state').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** Consecutive misbehaving answers (2xx other than 202, 3xx) to this SET; any other outcome resets it. */
    misbehavingStreak: integer('misbehaving_streak').notNull().default(0),
    errCode: text('err_code'),
    errDescription: text('err_description'),
    /** Signed and stored (commit): the start of the commit-to-202 latency. */
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
    /** Last put in the queue: created, redriven or replayed. A pending SET's retention counts from here. */
    queuedAt: timestamp('queued_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    doneAt: timestamp('done_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('events_feed_state_seq').on(t.feedId, t.state, t.seq)],
);

/** Asynchronous requests (RFC 9967 §2.5.1): one row per Set-Txn. */
export const txns = pgTable(
  'txns',
  {
    id: text('id').primaryKey(),
    owner: text('owner').notNull(),
    kind: text('kind').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    request: jsonb('request'),
    ifMatch: text('if_match'),
    opCount: integer('op_count').notNull(),
    status: text('status').notNull().default('pending'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
    lastModified: timestamp('last_modified', { withTimezone: true, precision: 3 }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    /** Prefer priority=high|normal|low, as admitted (graphile-worker job priority: lower runs first). */
    priority: smallint('priority').notNull().default(0),
    /** Prefer callback="…": where this txn's asyncresp SETs are also pushed (a scimcast extension). */
    callback: text('callback'),
    /**
     * How the callback ended, once it has (feeds/callback.ts): delivered or failed, the counts and
     * its dead letters. Kept with the request, since the callback's feed is removed when it ends.
     */
    callbackState: jsonb('callback_state'),
  },
  (t) => [index('txns_owner_status').on(t.owner, t.status, t.createdAt)],
);

/** One result per (txn, operation index): the idempotency guard for retried jobs, so each operation is applied once. */
export const txnOps = pgTable(
  'txn_ops',
  {
    txnId: text('txn_id')
      .notNull()
      .references(() => txns.id, { onDelete: 'cascade' }),
    opIndex: integer('op_index').notNull(),
    method: text('method').notNull(),
    bulkId: text('bulk_id'),
    status: text('status').notNull(),
    location: text('location'),
    version: text('version'),
    response: jsonb('response'),
    /** The asyncresp SET for this operation, retrievable from the status resource (RFC 9967 §2.5.1.1). */
    jti: text('jti'),
    setJws: text('set_jws'),
    /** The asyncresp SETs the requester's streams got, `[{stream_id, jti}]`, filled in by the fan-out. */
    sets: jsonb('sets'),
    doneAt: timestamp('done_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.txnId, t.opIndex] })],
);
