import { sql } from 'drizzle-orm';
import { makeSecretBox, type SecretBox } from '../core/secret-box.js';
import type { Db } from './db.js';
import { makeEventRepo } from './events.js';
import { makeFeedRepo } from './feeds.js';
import { makeHeartbeatRepo } from './heartbeats.js';
import { makeJobRepo } from './jobs.js';
import { makeKeyRepo } from './keys.js';
import { makeMemberRepo, makeResourceRepo } from './resources.js';
import { makeTokenRepo } from './tokens.js';
import { makeTxnRepo } from './txns.js';

export type { ResourceRow, ResourceTypeName, MemberRef, ListQuery, ListResult, IndexPage, CursorPage } from './resources.js';
export type { TokenRow } from './tokens.js';
export type { SigningKeyRow, SigningKeyInfo, NewSigningKey } from './keys.js';
export type { FeedRow } from './feeds.js';
export type { EventRow, NewEvent } from './events.js';
export type { TxnRow, TxnOpRow } from './txns.js';
export type { EnqueueOptions } from './jobs.js';

/**
 * Every SQL statement lives under storage/ (architecture B2). withTx hands `fn` the same API
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
  readonly txns: ReturnType<typeof makeTxnRepo>;
  readonly jobs: ReturnType<typeof makeJobRepo>;
  withTx<T>(fn: (s: Storage) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
}

/**
 * `secrets` seals signing private keys and push authorization_headers on write and opens them on
 * read (SCIMCAST_KEY_ENCRYPTION_KEY); without a KEK they are stored as given.
 */
export function makeStorage(db: Db, secrets: SecretBox = makeSecretBox(undefined), inTx = false): Storage {
  const self: Storage = {
    resources: makeResourceRepo(db),
    members: makeMemberRepo(db),
    tokens: makeTokenRepo(db),
    heartbeats: makeHeartbeatRepo(db),
    keys: makeKeyRepo(db, secrets),
    feeds: makeFeedRepo(db, secrets),
    events: makeEventRepo(db),
    txns: makeTxnRepo(db),
    jobs: makeJobRepo(db),
    // Inside a transaction, a nested withTx joins it: one operation is one unit of work.
    withTx: inTx ? (fn) => fn(self) : (fn) => db.transaction((tx) => fn(makeStorage(tx as unknown as Db, secrets, true))),
    async ping() {
      await db.execute(sql`select 1`);
    },
  };
  return self;
}
