import { describe, expect, it } from 'vitest';
import { jobsFor } from '../../../src/async/accept.js';
import type { TxnRow } from '../../../src/storage/index.js';

const at = new Date('2026-01-01T00:00:00Z');
const row = (id: string, kind: 'single' | 'bulk', method: string): TxnRow => ({
  id,
  owner: 'o',
  kind,
  method,
  path: '/Users',
  request: {},
  ifMatch: null,
  opCount: 1,
  status: 'pending',
  createdAt: at,
  lastModified: at,
  expiresAt: at,
  priority: 0,
  callback: null,
  callbackState: null,
});

describe('the jobs of admissions written together (async/accept.ts)', () => {
  it('single creations of one priority share a batch job, in admission order; everything else has a job of its own', () => {
    const jobs = jobsFor([
      { row: row('c1', 'single', 'POST'), job: { priority: 0, maxAttempts: 25 } },
      { row: row('p1', 'single', 'PATCH'), job: { priority: 0, maxAttempts: 25 } },
      { row: row('c2', 'single', 'POST'), job: { priority: 0, maxAttempts: 25 } },
      { row: row('h1', 'single', 'POST'), job: { priority: -10, maxAttempts: 25 } },
      { row: row('b1', 'bulk', 'POST'), job: { priority: 0, maxAttempts: 25 } },
      // wait=N: the job is a safety net that starts later, and stays alone.
      { row: row('w1', 'single', 'POST'), job: { priority: 0, maxAttempts: 25, runAt: new Date('2026-01-01T00:00:05Z') } },
      { row: row('c3', 'single', 'POST'), job: { priority: 0, maxAttempts: 25 } },
    ]);
    expect(jobs.map((j) => [j.payload, j.options.priority])).toEqual([
      [{ txnId: 'p1' }, 0],
      [{ txnId: 'b1' }, 0],
      [{ txnId: 'w1' }, 0],
      [[{ txnId: 'c1' }, { txnId: 'c2' }, { txnId: 'c3' }], 0],
      [[{ txnId: 'h1' }], -10],
    ]);
    expect(jobs.every((j) => j.identifier === 'apply_async_request')).toBe(true);
  });
});
