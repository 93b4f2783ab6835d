import type { AppMetrics } from '../core/app-metrics.js';
import type { Clock } from '../core/clock.js';
import type { Ids } from '../core/ids.js';
import type { SetSigner } from '../events/sign.js';
import type { TxnRef } from '../events/uris.js';
import type { Change } from '../provisioning/outcome.js';
import type { NewChange, Storage } from '../storage/index.js';
import { provChange } from './outbox.js';

export interface PublisherDeps {
  /** SET issuer: BASE_URL, the `issuer` of /.well-known/ssf-configuration too (OpenID SSF 1.0 §4.1, §7.1). */
  readonly iss: string;
  readonly ids: Ids;
  readonly clock: Clock;
  readonly sign: SetSigner;
  /** Counts stored SETs per stream (/metrics); optional so tests and tools can leave it out. */
  readonly metrics?: Pick<AppMetrics, 'setsCreated'> | undefined;
}

/**
 * The outbox hook: each change of the transaction becomes one unsigned row (feeds/outbox.ts),
 * whatever the number of streams; the worker's fan-out signs and routes it after the commit
 * (feeds/fanout.ts). The writer pays one insert, not one signature per stream.
 */
export function makeChangePublisher(d: Pick<PublisherDeps, 'ids' | 'clock'>) {
  const many = makeChangesPublisher(d);
  return (s: Storage, change: Change, txn: TxnRef): Promise<void> => many(s, [{ change, txn }]);
}

/** Many changes of one transaction (bulk batches): one multi-row insert. */
export function makeChangesPublisher(d: Pick<PublisherDeps, 'ids' | 'clock'>) {
  const rows = makeOutboxRows(d);
  return async (s: Storage, items: readonly { change: Change; txn: TxnRef }[]): Promise<void> => {
    if (items.length === 0) return;
    await s.changes.insert(rows(items));
  };
}

/**
 * The outbox rows of these changes, for a write that stores them in its own statement
 * (storage/single-writes.ts): the same rows the publishers above insert.
 */
export function makeOutboxRows(d: Pick<PublisherDeps, 'ids' | 'clock'>) {
  return (items: readonly { change: Change; txn: TxnRef }[]): NewChange[] => {
    const now = d.clock.now();
    return items.map(({ change, txn }) => provChange(change, txn, now, d.ids.uuid()));
  };
}
