import type { Clock } from '../core/clock.js';
import type { ClientCompat } from '../scim/compat.js';
import type { FilterLimits } from '../scim/filter/index.js';
import type { Ids } from '../core/ids.js';
import type { NewChange, Storage } from '../storage/index.js';
import type { Change } from './outcome.js';
import type { PasswordHasher } from './password.js';
import type { RecentGroups } from './recent-groups.js';
import type { TxnRef } from '../events/uris.js';

/** What a provisioning use case needs; the same on the sync route and in the worker. */
export interface ProvisioningCtx {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly ids: Ids;
  /** BASE_URL; SCIM resources live under `${baseUrl}/scim/v2`. */
  readonly baseUrl: string;
  readonly compat: ClientCompat;
  /** Bounds on query filters (SCIMCAST_FILTER_MAX_*); unset means the built-in defaults. */
  readonly filterLimits?: FilterLimits | undefined;
  /** Turns a user's cleartext password into its stored form, off the event loop (password.ts). */
  readonly passwords: PasswordHasher;
  /** Most Group members one response carries (SCIMCAST_MAX_MEMBERS_RETURNED); unset: no bound. */
  readonly maxMembers?: number | undefined;
  /**
   * Called inside each operation's transaction for every change: the outbox hook
   * (docs/decisions/0001-changes-outbox-and-fan-out.md).
   */
  readonly onChange?: ((s: Storage, change: Change, txn: TxnRef) => Promise<void>) | undefined;
  /** The same for many changes in one transaction (bulk batches): feeds are read once. */
  readonly onChanges?: ((s: Storage, items: readonly { change: Change; txn: TxnRef }[]) => Promise<void>) | undefined;
  /**
   * The outbox rows `onChange` would store, for a single write that stores them in its own
   * statement (storage.writes). Unset: such writes take the transaction and `onChange`.
   */
  readonly outboxRows?: ((items: readonly { change: Change; txn: TxnRef }[]) => NewChange[]) | undefined;
  /** Groups this process wrote last, so that a member add can skip its read (recent-groups.ts). */
  readonly recentGroups?: RecentGroups | undefined;
  /** The originating transaction shared by the SETs of this request (RFC 9967 §2.2 txn); one per request. */
  readonly txn?: TxnRef | undefined;
}
