import { sql } from 'drizzle-orm';
import { makeGroupCommit } from '../core/group-commit.js';
import { makeSecretBox, type SecretBox } from '../core/secret-box.js';
import type { Db } from './db.js';
import { makeAnnouncer, notifyAfterCommit } from './announce.js';
import { CHANGES_CHANNEL, CHANGES_PAYLOAD, makeChangeRepo, type NewChange } from './changes.js';
import { makeEventRepo } from './events.js';
import { makeFeedRepo } from './feeds.js';
import { makeHeartbeatRepo } from './heartbeats.js';
import { makeJobRepo } from './jobs.js';
import { makeKeyRepo } from './keys.js';
import { SENT_DISPLAY, type MemberView } from './member-view.js';
import { makeMemberRepo, makeResourceRepo, uniquenessError } from './resources.js';
import type { ResourceRow } from './resource-row.js';
import { makeSingleWriteRepo, type AddMembers, type AddMembersResult } from './single-writes.js';
import { makeTokenRepo } from './tokens.js';
import { makeTxnRepo } from './txns.js';

export type { ResourceRow, ResourceTypeName, MemberRef, NewMembers } from './resource-row.js';
export type { ListQuery, ListResult, IndexPage, CursorPage } from './list-query.js';
export type { MemberView } from './member-view.js';
export type { TokenRow } from './tokens.js';
export type { SigningKeyRow, SigningKeyInfo, NewSigningKey } from './keys.js';
export type { FeedRow } from './feeds.js';
export type { EventRow, NewEvent, PushItem } from './events.js';
export type { ChangeRow, NewChange, VersionRow, SubjectRow } from './changes.js';
export type { TxnRow, TxnOpRow } from './txns.js';
export type { EnqueueOptions } from './jobs.js';
export type { AddMembersResult } from './single-writes.js';

/**
 * Every SQL statement lives under storage/ (ARCHITECTURE.md). withTx hands `fn` the same API
 * bound to one transaction, so a change and everything it implies commit together.
 */
export interface Storage {
  readonly resources: ReturnType<typeof makeResourceRepo>;
  readonly members: ReturnType<typeof makeMemberRepo>;
  readonly tokens: ReturnType<typeof makeTokenRepo>;
  readonly heartbeats: ReturnType<typeof makeHeartbeatRepo>;
  readonly keys: ReturnType<typeof makeKeyRepo>;
  readonly feeds: ReturnType<typeof makeFeedRepo>;
  readonly events: ReturnType<typeof makeEventRepo>;
  readonly changes: ReturnType<typeof makeChangeRepo>;
  readonly txns: ReturnType<typeof makeTxnRepo>;
  readonly jobs: ReturnType<typeof makeJobRepo>;
  /** A single-resource write with its outbox rows in one statement (one round trip, no BEGIN/COMMIT). */
  readonly writes: ReturnType<typeof makeSingleWriteRepo>;
  /**
   * `statementTimeoutMs` sets statement_timeout for this transaction only (0: none), over the
   * pool's SCIMCAST_STATEMENT_TIMEOUT_MS: for maintenance no client input drives.
   */
  withTx<T>(fn: (s: Storage) => Promise<T>, opts?: TxOptions): Promise<T>;
  ping(): Promise<void>;
}

export interface TxOptions {
  readonly statementTimeoutMs?: number;
}

/** `set local` takes no bind parameter; the value is an integer, checked here. */
async function applyTxOptions(db: Db, opts: TxOptions | undefined): Promise<void> {
  const ms = opts?.statementTimeoutMs;
  if (ms === undefined) return;
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`statementTimeoutMs must be a non-negative integer, not ${ms}`);
  await db.execute(sql.raw(`set local statement_timeout = ${ms}`));
}

/**
 * `secrets` seals signing private keys and push authorization_headers on write and opens them on
 * read (SCIMCAST_KEY_ENCRYPTION_KEY); without a KEK they are stored as given. `view` is how Group
 * members' `display` reads (member-view.ts, SCIMCAST_COMPAT_MEMBER_DISPLAY).
 */
export function makeStorage(db: Db, secrets: SecretBox = makeSecretBox(undefined), view: MemberView = SENT_DISPLAY): Storage {
  return bind(db, secrets, view, makeAnnouncer(notifyAfterCommit(db, CHANGES_CHANNEL, CHANGES_PAYLOAD)));
}

/** Inside a transaction (`tx`), changes are announced once it commits; outside, after their statement. */
function bind(db: Db, secrets: SecretBox, view: MemberView, announce: () => void, tx?: { changed: boolean }): Storage {
  const changed = tx ? () => void (tx.changed = true) : announce;
  const self: Storage = {
    resources: makeResourceRepo(db, view),
    members: makeMemberRepo(db, view),
    tokens: makeTokenRepo(db),
    heartbeats: makeHeartbeatRepo(db),
    keys: makeKeyRepo(db, secrets),
    feeds: makeFeedRepo(db, secrets),
    events: makeEventRepo(db),
    changes: makeChangeRepo(db, changed),
    txns: makeTxnRepo(db),
    jobs: makeJobRepo(db),
    writes: tx ? makeSingleWriteRepo(db, changed) : groupCommitted(makeSingleWriteRepo(db, changed)),
    // Inside a transaction, a nested withTx joins it: one operation is one unit of work.
    withTx: tx
      ? async (fn, opts) => {
          await applyTxOptions(db, opts);
          return fn(self);
        }
      : async (fn, opts) => {
          const mark = { changed: false };
          const result = await db.transaction(async (t) => {
            await applyTxOptions(t as unknown as Db, opts);
            return fn(bind(t as unknown as Db, secrets, view, announce, mark));
          });
          if (mark.changed) announce();
          return result;
        },
    async ping() {
      await db.execute(sql`select 1`);
    },
  };
  return self;
}

/**
 * Outside a transaction, creates and member adds are group-committed: those that arrive while a
 * statement is being written go together in the next one (one commit and one WAL flush for all,
 * and a tenth of PostgreSQL's CPU per row), each with its own answer. A lone write goes at once.
 * Inside a transaction (the worker, bulk) each is one statement of that transaction.
 * @see docs/decisions/0002-group-commit.md
 */
function groupCommitted(repo: ReturnType<typeof makeSingleWriteRepo>): ReturnType<typeof makeSingleWriteRepo> {
  type Item = { row: ResourceRow; changes: readonly NewChange[] };
  const create = makeGroupCommit<Item, Error | undefined>(
    async (items) => {
      if (items.length === 1) {
        await repo.create(items[0]!.row, items[0]!.changes);
        return [undefined];
      }
      const stored = await repo.createMany(items);
      return items.map(({ row }, i) => (stored[i] ? undefined : uniquenessError(row)));
    },
    GROUP_COMMIT,
  );
  // Member adds the same way: the common Group PATCH (provisioning/patch.ts addMembersAlone).
  const addMembers = makeGroupCommit<AddMembers, AddMembersResult>((items) => (items.length === 1 ? Promise.all([repo.addMembers(items[0]!)]) : repo.addMembersMany(items)), GROUP_COMMIT);
  return {
    ...repo,
    async create(row, changes) {
      const error = await create({ row, changes });
      if (error) throw error;
    },
    addMembers,
  };
}

/** Up to 256 creates per statement (bounded parameters), two statements in flight per process. */
const GROUP_COMMIT = { maxBatch: 256, maxInFlight: 2 } as const;
