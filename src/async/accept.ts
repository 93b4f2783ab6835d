import type { Clock } from '../core/clock.js';
import { makeGroupCommit } from '../core/group-commit.js';
import type { Ids } from '../core/ids.js';
import type { EnqueueOptions, FeedRow, Storage, TxnRow } from '../storage/index.js';
import { callbackFeed } from './callback.js';
import { jobPriority } from './priority.js';
import type { Priority } from './prefer.js';
import { APPLY_TASK, taskJob } from './tasks.js';


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
  /** Prefer priority=…; normal when absent. */
  priority?: Priority | undefined;
  /** Prefer callback="…", already validated: where this txn's asyncresp SETs are also pushed. */
  callback?: string | undefined;
}

/** Stores one admitted request with its job (and its callback's feed); resolves once all are durable. */
export type Admissions = (row: TxnRow, job: EnqueueOptions, feed?: FeedRow) => Promise<void>;

/**
 * The admissions of one process, group-committed: requests admitted while a statement is being
 * written go together in the next one (one commit, one WAL flush and one job NOTIFY for all).
 * A lone request is written at once. @see docs/decisions/0002-group-commit.md
 */
export function makeAdmissions(storage: Storage): Admissions {
  const write = makeGroupCommit<{ row: TxnRow; job: EnqueueOptions; feed?: FeedRow | undefined }, void>(
    async (items) => {
      await storage.txns.insertWithJobs(items, jobsFor(items));
      return items.map(() => undefined);
    },
    // One statement in flight: each carries a job NOTIFY, and those commit one after another anyway.
    { maxBatch: 256, maxInFlight: 1 },
  );
  return (row, job, feed) => write({ row, job, feed });
}

/** A single creation with nothing to wait for: it can share a job with others (async/apply-together.ts). */
const together = (row: TxnRow, job: EnqueueOptions) => row.kind === 'single' && row.method === 'POST' && job.runAt === undefined;

/**
 * The jobs of admissions stored together: single creations of one priority share one batch job,
 * applied together by the worker, in admission order; every other request has a job of its own.
 */
export function jobsFor(items: readonly { row: TxnRow; job: EnqueueOptions }[]) {
  const jobs: ReturnType<typeof jobOf>[] = [];
  const batches = new Map<string, { options: EnqueueOptions; ids: { txnId: string }[] }>();
  for (const { row, job } of items) {
    if (!together(row, job)) {
      jobs.push(jobOf({ txnId: row.id }, job));
      continue;
    }
    const key = `${job.priority ?? 0}/${job.maxAttempts ?? ''}`;
    const batch = batches.get(key) ?? { options: job, ids: [] };
    batch.ids.push({ txnId: row.id });
    batches.set(key, batch);
  }
  for (const { options, ids } of batches.values()) jobs.push(jobOf(ids, options));
  return jobs;
}

const jobOf = (payload: { txnId: string } | { txnId: string }[], options: EnqueueOptions) => ({ ...taskJob(APPLY_TASK, payload), options });

/**
 * Admission of a `Prefer: respond-async` request (RFC 7240 §4.1): the request record and its
 * graphile-worker job commit together or not at all; the caller answers 202 with the returned
 * Set-Txn value.
 */
export async function admit(d: { admissions: Admissions; clock: Clock; ids: Ids; retentionMs: number; maxAttempts?: number | undefined }, a: Admission): Promise<string> {
  const id = d.ids.txn();
  const now = d.clock.now();
  const row: TxnRow = {
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
    priority: jobPriority(a.priority ?? 'normal'),
    callback: a.callback ?? null,
    callbackState: null,
  };
  // The callback's push feed exists before any result of the request does: the fan-out routes a
  // result to the feeds that existed when it committed (feeds/route-version.ts).
  const feed = a.callback === undefined ? undefined : callbackFeed(id, a.owner, a.callback, now);
  await d.admissions(row, { runAt: a.runAt, maxAttempts: d.maxAttempts ?? 25, priority: row.priority }, feed);
  return id;
}
