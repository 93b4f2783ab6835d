import type { Clock } from '../core/clock.js';
import type { Ids } from '../core/ids.js';
import type { Storage } from '../storage/index.js';

export const APPLY_TASK = 'apply_async_request';

export interface Admission {
  owner: string;
  kind: 'single' | 'bulk';
  method: string;
  path: string;
  request: unknown;
  ifMatch?: string | undefined;
  opCount: number;
  /** With Prefer wait=N the request also runs inline; the job is a safety net that starts later. */
  runAt?: Date | undefined;
}

/**
 * Admission of a `Prefer: respond-async` request (RFC 7240 §4.1): the request record and its
 * graphile-worker job commit together or not at all, in one statement; the caller answers 202
 * with the returned Set-Txn value.
 */
export async function admit(d: { storage: Storage; clock: Clock; ids: Ids; retentionMs: number; maxAttempts?: number | undefined }, a: Admission): Promise<string> {
  const id = d.ids.txn();
  const now = d.clock.now();
  const row = {
    id,
    owner: a.owner,
    kind: a.kind,
    method: a.method,
    path: a.path,
    request: a.request as object,
    ifMatch: a.ifMatch ?? null,
    opCount: a.opCount,
    status: 'pending',
    createdAt: now,
    lastModified: now,
    expiresAt: new Date(now.getTime() + d.retentionMs),
  };
  await d.storage.txns.insertWithJob(row, APPLY_TASK, { txnId: id }, { runAt: a.runAt, maxAttempts: d.maxAttempts ?? 25 });
  return id;
}
