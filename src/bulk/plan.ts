import { conflict } from '../core/errors.js';
import type { BulkOperation } from '../scim/messages/bulk.js';
import { findRefs, stripRefs } from './references.js';

/**
 * One step of a bulk execution plan. `op` runs one operation; `cycle` creates POSTs that
 * reference each other without those references, then replays each one's full data as a PUT
 * once every id exists, all in one transaction (RFC 7644 §3.7.1: resolve where possible);
 * `fail` is a cycle that cannot be split (no POST in it): 409.
 */
export type Step =
  | { kind: 'op'; index: number }
  | { kind: 'cycle'; members: { index: number; stripped: unknown }[] }
  | { kind: 'fail'; index: number; error: ReturnType<typeof conflict> };

/**
 * Order operations so each runs after the POSTs it references (BULK-7, BULK-8), keeping the
 * client's order wherever dependencies allow (BULK-14: indexes stay the original ones).
 * References to a bulkId no POST defines are left to fail at run time with a clear error.
 */
export function planBulk(ops: readonly BulkOperation[]): Step[] {
  const postByBulkId = new Map<string, number>();
  for (const op of ops) if (op.method === 'POST' && op.bulkId && !op.invalid) postByBulkId.set(op.bulkId, op.index);
  const pending = new Map<number, number>(); // index → number of unfinished dependencies
  const dependents = new Map<number, number[]>();
  for (const op of ops) {
    const d = new Set<number>();
    if (!op.invalid) for (const r of findRefs(op.path, op.data)) {
      const target = postByBulkId.get(r);
      if (target !== undefined && target !== op.index) d.add(target);
    }
    pending.set(op.index, d.size);
    for (const t of d) (dependents.get(t) ?? dependents.set(t, []).get(t)!).push(op.index);
  }
  const steps: Step[] = [];
  const ready = new MinHeap();
  for (const [i, n] of pending) if (n === 0) ready.push(i);
  const finish = (i: number) => {
    pending.delete(i);
    for (const dep of dependents.get(i) ?? []) {
      const n = pending.get(dep);
      if (n === undefined) continue;
      pending.set(dep, n - 1);
      if (n - 1 === 0) ready.push(dep);
    }
  };
  while (pending.size > 0) {
    const i = ready.pop();
    if (i !== undefined) {
      // The earliest ready operation first: the client's order wherever dependencies allow.
      if (!pending.has(i)) continue;
      steps.push({ kind: 'op', index: i });
      finish(i);
      continue;
    }
    // Everything left waits on something left: a cycle. Break it at the POSTs (create first).
    const stuck = [...pending.keys()].sort((a, b) => a - b);
    const posts = stuck.filter((i) => ops[i]!.method === 'POST');
    if (posts.length === 0) {
      for (const i of stuck) steps.push({ kind: 'fail', index: i, error: conflict(undefined, `Operations[${i}] is part of a circular bulkId reference that cannot be resolved (RFC 7644 §3.7.1)`) });
      break;
    }
    const stuckSet = new Set(stuck);
    const cyclicIds = new Set([...postByBulkId].filter(([, i]) => stuckSet.has(i)).map(([b]) => b));
    steps.push({ kind: 'cycle', members: posts.map((i) => ({ index: i, stripped: stripRefs(ops[i]!.data, cyclicIds) })) });
    for (const i of posts) finish(i);
  }
  return steps;
}

/** A binary min-heap of operation indexes. */
class MinHeap {
  private a: number[] = [];
  push(v: number): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= v) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = v;
  }
  pop(): number | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let best = last;
        if (l < a.length && a[l]! < best) (m = l), (best = a[l]!);
        if (r < a.length && a[r]! < best) (m = r), (best = a[r]!);
        if (m === i) break;
        a[i] = a[m]!;
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}

/** BULK-6: stop once failOnErrors errors have happened. */
export function failOnErrorsReached(errors: number, failOnErrors: number | undefined): boolean {
  return failOnErrors !== undefined && errors >= failOnErrors;
}
