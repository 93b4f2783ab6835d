import { describe, expect, it } from 'vitest';
import { APPLY_TASK, parseTaskPayload, taskJob, TASK_PAYLOADS } from '../../../src/async/tasks.js';

describe('task payloads: one table of task name and schema', () => {
  it('names the tasks the worker runs', () => {
    expect(Object.keys(TASK_PAYLOADS).sort()).toEqual(['apply_async_request', 'deliver_push', 'prune']);
  });

  it('an apply_async_request job carries the id of its request, and a payload without one is refused', () => {
    expect(parseTaskPayload(APPLY_TASK, taskJob(APPLY_TASK, { txnId: 't1' }).payload)).toEqual({ txnId: 't1' });
    expect(() => parseTaskPayload(APPLY_TASK, {})).toThrow();
    expect(() => parseTaskPayload(APPLY_TASK, { txnId: '' })).toThrow();
  });

  it('a batch job of creations admitted together carries their ids in admission order; an empty list or an empty id is refused', () => {
    expect(parseTaskPayload(APPLY_TASK, taskJob(APPLY_TASK, [{ txnId: 't1' }, { txnId: 't2' }]).payload)).toEqual([{ txnId: 't1' }, { txnId: 't2' }]);
    expect(() => parseTaskPayload(APPLY_TASK, [])).toThrow();
    expect(() => parseTaskPayload(APPLY_TASK, [{ txnId: 't1' }, { txnId: '' }])).toThrow();
  });

  it("prune takes graphile-worker's cron payload, and a leftover deliver_push job any payload", () => {
    expect(() => parseTaskPayload('prune', { _cron: { ts: '2026-01-01T00:00:00Z', backfilled: false } })).not.toThrow();
    expect(() => parseTaskPayload('prune', {})).not.toThrow();
    expect(() => parseTaskPayload('prune', undefined)).not.toThrow();
    expect(() => parseTaskPayload('deliver_push', { feedId: 'f1' })).not.toThrow();
    expect(() => parseTaskPayload('deliver_push', null)).not.toThrow();
  });
});
