import { describe, expect, it } from 'vitest';
import { planBulk, type Step } from '../../../src/bulk/plan.js';
import { parseBulkRequest } from '../../../src/scim/messages/bulk.js';

/**
 * The bulk plan (RFC 7644 §3.7, §3.7.2; RFC 9967 §2.5.1.2): operations ordered after the POSTs they
 * reference, circular references grouped into exactly the strongly connected POSTs (§3.7.1).
 */
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const group = (bulkId: string, members: string[]) => ({ method: 'POST', path: '/Groups', bulkId, data: { schemas: [GROUP], displayName: bulkId, members: members.map((m) => ({ value: `bulkId:${m}` })) } });
const plan = (Operations: unknown[]) => planBulk(parseBulkRequest({ schemas: [BULK], Operations }, { maxOperations: 1e9 }).operations);
const shape = (steps: Step[]) => steps.map((s) => (s.kind === 'op' ? s.index : s.members.map((m) => m.index)));

describe('planBulk (RFC 7644 §3.7)', () => {
  it('keeps the client order when nothing references anything (RFC 7644 §3.7)', () => {
    expect(shape(plan([group('a', []), group('b', []), group('c', [])]))).toEqual([0, 1, 2]);
  });

  it('runs a forward reference after the POST it names, the rest in client order (RFC 7644 §3.7.2)', () => {
    expect(shape(plan([group('a', ['c']), group('b', []), group('c', [])]))).toEqual([1, 2, 0]);
  });

  it('a cycle of two groups is one cycle step whose members are created without each other (RFC 7644 §3.7.1)', () => {
    const steps = plan([group('a', ['b']), group('b', ['a'])]);
    expect(shape(steps)).toEqual([[0, 1]]);
    const cycle = steps[0] as Extract<Step, { kind: 'cycle' }>;
    for (const m of cycle.members) expect((m.stripped as { members: unknown[] }).members).toEqual([]);
  });

  it('a POST that references its own bulkId is a cycle of one, not a reference to an undefined bulkId', () => {
    expect(shape(plan([group('self', ['self'])]))).toEqual([[0]]);
  });

  it('operations that only depend on a cycle are not part of it: they run after it (§3.7.1 "the operations involved")', () => {
    const steps = plan([
      { method: 'PUT', path: '/Groups/bulkId:a', data: { schemas: [GROUP], displayName: 'x' } },
      group('c', ['a']),
      group('a', ['b']),
      group('b', ['a']),
    ]);
    expect(shape(steps)).toEqual([[2, 3], 0, 1]);
  });

  it('only the strongly connected POSTs are stripped: a reference out of the cycle stays for run time', () => {
    const steps = plan([group('x', []), group('a', ['b', 'x']), group('b', ['a'])]);
    expect(shape(steps)).toEqual([0, [1, 2]]);
    const a = (steps[1] as Extract<Step, { kind: 'cycle' }>).members[0]!.stripped as { members: { value: string }[] };
    expect(a.members).toEqual([{ value: 'bulkId:x' }]);
  });

  it('two independent cycles are two steps, each with exactly its own members', () => {
    expect(shape(plan([group('a', ['b']), group('c', ['d']), group('b', ['a']), group('d', ['c'])]))).toEqual([
      [0, 2],
      [1, 3],
    ]);
  });

  it('malformed operations are planned as single steps and never join a cycle', () => {
    expect(shape(plan([{ method: 'POST', path: '/Groups', data: {} }, group('a', ['a'])]))).toEqual([0, [1]]);
  });

  it('a 10,000-long chain and a 10,000-long ring plan without overflowing the stack', () => {
    const n = 10_000;
    const chain = Array.from({ length: n }, (_, i) => group(`g${i}`, i + 1 < n ? [`g${i + 1}`] : []));
    expect(shape(plan(chain))).toEqual(Array.from({ length: n }, (_, i) => n - 1 - i));
    const ring = Array.from({ length: n }, (_, i) => group(`g${i}`, [`g${(i + 1) % n}`]));
    const steps = plan(ring);
    expect(steps).toHaveLength(1);
    expect((steps[0] as Extract<Step, { kind: 'cycle' }>).members).toHaveLength(n);
  });

  it('property: every operation is planned exactly once, after every POST it references outside its own cycle', () => {
    let seed = 42;
    const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % k);
    for (let round = 0; round < 200; round++) {
      const n = 1 + rnd(12);
      const ops = Array.from({ length: n }, (_, i) =>
        rnd(4) === 0
          ? { method: 'PATCH', path: `/Groups/bulkId:g${rnd(n)}`, data: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [] } }
          : group(`g${i}`, Array.from({ length: rnd(3) }, () => `g${rnd(n)}`)),
      );
      const steps = plan(ops);
      const position = new Map<number, number>();
      steps.forEach((s, k) => (s.kind === 'op' ? [s.index] : s.members.map((m) => m.index)).forEach((i) => position.set(i, k)));
      expect([...position.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(steps.flatMap((s) => (s.kind === 'op' ? [s.index] : s.members.map((m) => m.index)))).toHaveLength(n);
      ops.forEach((op, i) => {
        const refs = JSON.stringify(op).match(/bulkId:g\d+/g) ?? [];
        for (const r of refs) {
          const target = ops.findIndex((o) => o.method === 'POST' && (o as { bulkId?: string }).bulkId === r.slice(7));
          if (target < 0) continue;
          expect(position.get(target)!).toBeLessThanOrEqual(position.get(i)!);
          if (position.get(target) === position.get(i)) expect(steps[position.get(i)!]!.kind).toBe('cycle');
        }
      });
    }
  });
});
