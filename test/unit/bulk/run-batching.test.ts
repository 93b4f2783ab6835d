import { describe, expect, it } from 'vitest';
import type { OperationRequest, OperationResult } from '../../../src/provisioning/operation.js';
import { executeBulk, type BulkExecutor } from '../../../src/bulk/run.js';
import type { BulkRequest } from '../../../src/scim/messages/bulk.js';

/**
 * Creations go in multi-row batches, and a batch refused for one bad row costs at most
 * one more pass over that batch, one by one: never a retry of the bad row in every later batch.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

function executor(bad: Set<string>, batchSize: number) {
  const calls = { runMany: 0, rowsTried: 0, run: 0 };
  const ok = (op: OperationRequest, n: number): OperationResult => ({ method: 'POST', bulkId: op.bulkId, status: '201', location: `/Users/${n}`, resourceId: String(n) });
  const conflict = (op: OperationRequest): OperationResult => ({ method: 'POST', bulkId: op.bulkId, status: '409' });
  const name = (op: OperationRequest) => (op.body as { userName: string }).userName;
  let n = 0;
  const ex: BulkExecutor = {
    batchSize,
    async run(_i, op) {
      calls.run++;
      return bad.has(name(op)) ? conflict(op) : ok(op, n++);
    },
    async runMany(items) {
      calls.runMany++;
      calls.rowsTried += items.length;
      if (items.some((it) => bad.has(name(it.op)))) return undefined;
      return items.map((it) => ok(it.op, n++));
    },
    async runCycle() {
      throw new Error('no cycles here');
    },
    async fail(_i, op, e) {
      return { method: op.method, bulkId: op.bulkId, status: String(e.status) };
    },
  };
  return { ex, calls };
}

const request = (count: number): BulkRequest => ({
  failOnErrors: undefined,
  operations: Array.from({ length: count }, (_, i) => ({ index: i, method: 'POST' as const, path: '/Users', bulkId: `u${i}`, data: { schemas: [USER], userName: `user-${i}` } })),
});

describe('bulk batching after a refused batch', () => {
  it('3,000 creations with one conflict at 1,700: only that one fails, and rows tried stay near 3,000', async () => {
    const { ex, calls } = executor(new Set(['user-1700']), 500);
    const run = await executeBulk(request(3000), ex, { skipped: 'omit' });
    const statuses = [...run.results.values()].map((r) => r.status);
    expect(statuses.filter((s) => s === '201')).toHaveLength(2999);
    expect(run.results.get(1700)!.status).toBe('409');
    // Six batches of 500; the refused one (1,500–1,999) runs one by one, then batching resumes.
    expect(calls.runMany).toBe(6);
    expect(calls.run).toBe(500);
    expect(calls.rowsTried).toBe(3000);
  });
});
