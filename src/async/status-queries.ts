import { badRequest, notFound } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { callbackStatus } from '../feeds/callback.js';
import type { Storage, TxnOpRow, TxnRow } from '../storage/index.js';
import { statusUrl } from './asyncresp.js';
import { statusDocument, statusSummary } from './status.js';

/** What the status queries read: a request is visible only to its owner, until it expires. */
export interface StatusDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly baseUrl: string;
}

/** One request with its recorded results. */
export interface FoundStatus {
  txn: TxnRow;
  ops: TxnOpRow[];
  /** completed or failed: nothing more will be recorded. */
  finished: boolean;
}

/**
 * The status resource at the Location (RFC 9967 §2.5.1.1): an expired request, or another
 * principal's, is indistinguishable from a missing one (404).
 */
export async function findStatus(d: StatusDeps, owner: string, id: string): Promise<FoundStatus> {
  const txn = await d.storage.txns.get(id, owner);
  if (!txn || txn.expiresAt <= d.clock.now()) throw notFound(`async request ${id} not found`);
  const ops = await d.storage.txns.ops(txn.id);
  return { txn, ops, finished: txn.status === 'completed' || txn.status === 'failed' };
}

/**
 * The SETs kept with a finished request (Accept: application/secevent+jwt): a single operation's
 * one SET, or a bulk's by jti; undefined while it runs.
 */
export function statusSets(s: FoundStatus): { kind: 'single'; jws: string } | { kind: 'bulk'; sets: Record<string, string> } | undefined {
  if (!s.finished) return undefined;
  if (s.txn.kind === 'single') return { kind: 'single', jws: s.ops[0]?.setJws ?? '' };
  return { kind: 'bulk', sets: Object.fromEntries(s.ops.map((o) => [o.jti, o.setJws])) };
}

/** The status document with every operation, and the callback's delivery where there is one. */
export async function statusResource(d: StatusDeps, s: FoundStatus) {
  const callback = await callbackStatus(d.storage, s.txn);
  return statusDocument(s.txn, s.ops, { withOperations: true, location: statusUrl(d.baseUrl, s.txn.id), callback });
}

/** The states of an async request, in the order it passes through them (also the list filter's values). */
export const ASYNC_STATUSES = ['pending', 'running', 'completed', 'failed'];

/** The list's `status` filter: one of the four states, or none. */
export function statusFilter(status: string | undefined): string | undefined {
  if (status !== undefined && !ASYNC_STATUSES.includes(status)) throw badRequest('invalidValue', `status must be one of ${ASYNC_STATUSES.join(', ')}`);
  return status;
}

/**
 * The owner's requests, newest first, as status summaries (no per-operation entries): `count`
 * (1..1000, 100 by default) of them, optionally of one status. Progress is counted in one query
 * for the whole page.
 */
export async function listStatuses(d: StatusDeps, owner: string, q: { status?: string | undefined; count?: number | undefined }) {
  const status = statusFilter(q.status);
  const count = Math.min(Math.max(q.count ?? 100, 1), 1000);
  const now = d.clock.now();
  const txns = (await d.storage.txns.list(owner, { status, limit: count })).filter((t) => t.expiresAt > now);
  const counts = await d.storage.txns.opCountsOf(txns.map((t) => t.id));
  return txns.map((t) => statusSummary(t, counts.get(t.id) ?? { done: 0, failed: 0 }, { location: statusUrl(d.baseUrl, t.id) }));
}
