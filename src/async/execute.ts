import type { Clock } from '../core/clock.js';
import type { Ids } from '../core/ids.js';
import type { PublisherDeps } from '../feeds/publish.js';
import type { ProvisioningCtx } from '../provisioning/context.js';
import type { Admissions } from './accept.js';
import type { CallbackPolicy } from './callback.js';
import type { Storage, TxnRow } from '../storage/index.js';
import type { BulkRun } from '../bulk/run.js';
import { runBulkTxn } from './bulk.js';
import type { OperationRequest, OperationResult } from './operation.js';
import { runStep } from './step.js';

export interface AsyncDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly baseUrl: string;
  readonly provisioning: ProvisioningCtx;
  readonly publisher: PublisherDeps;
  readonly retentionMs: number;
  /** Where admitted requests are stored (accept.ts: group-committed per process). */
  readonly admissions: Admissions;
  /** Job attempts before the request is given up as `failed` (SCIMCAST_ASYNC_MAX_ATTEMPTS). */
  readonly maxAttempts?: number | undefined;
  /** Where a per-request callback may point (the push target rules); undefined: none is honoured. */
  readonly callbacks?: CallbackPolicy | undefined;
  /**
   * Aborted when the worker stops: a bulk ends after the batch it is in, rather than running to
   * its last operation while the process waits to exit; the job picks up where it left.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * Asked between two units of work of a bulk: true when more urgent requests wait for a worker
   * slot (Prefer priority=…). The bulk then ends after the unit it is in, and the job is queued
   * again in its place; an inline wait=N run has none and never gives way.
   */
  readonly giveWay?: (() => Promise<boolean>) | undefined;
}

/**
 * What one execution did, for an inline wait=N answer: the single operation's result (undefined
 * when another executor had already recorded it), or the bulk engine's run.
 */
export type TxnRun = { kind: 'single'; result: OperationResult | undefined } | { kind: 'bulk'; run: BulkRun };

/** The worker's entry point for one transaction; safe to run again after a crash. */
export async function executeTxn(d: AsyncDeps, txnId: string): Promise<TxnRun | undefined> {
  const txn = await d.storage.txns.get(txnId);
  // A finished request has no stored body any more (txns.finish): another executor did the work.
  if (!txn || txn.status === 'completed' || txn.status === 'failed' || txn.request === null) return undefined;
  if (txn.status === 'pending') await d.storage.txns.start(txn.id, d.clock.now());
  let out: TxnRun;
  if (txn.kind === 'bulk') {
    out = { kind: 'bulk', run: await runBulkTxn(d, txn) };
  } else {
    out = { kind: 'single', result: await runStep(d, txn, 0, txn.request as OperationRequest) };
  }
  await d.storage.txns.finish(txn.id, 'completed', d.clock.now());
  return out;
}
