import { conflict, type ScimError } from '../core/errors.js';
import type { BulkOperation } from '../scim/messages/bulk.js';
import { components } from './graph.js';
import { findRefs, stripRefs } from './references.js';

/**
 * One step of a bulk execution plan. `op` runs one operation; `cycle` is a circular bulkId
 * reference (RFC 7644 §3.7.1): exactly the POSTs of one strongly connected component of
 * the dependency graph, a POST that references itself included. They are created without those
 * references, then each one's full data is replayed as a PUT once every id exists, all in one
 * transaction; if that attempt fails, every member is answered 409 (src/bulk/cycle.ts).
 *
 * There is no "cycle that cannot even be attempted": only a POST defines a bulkId, so every edge
 * of the graph points at a POST, and every operation on a cycle is a POST that can be created
 * first. Operations that merely depend on a cycle (a PUT to /Groups/bulkId:x, a POST referencing
 * a cycle member) are not part of it: they run after it, or fail with 424 if it failed.
 */
export type Step =
  | { kind: 'op'; index: number }
  | { kind: 'cycle'; members: { index: number; stripped: unknown }[] };

/**
 * Order operations so each runs after the POSTs it references (RFC 7644 §3.7, §3.7.2: the server
 * may reorder, keeping the client's intent), keeping the client's order wherever dependencies
 * allow. Indexes stay the original ones (RFC 9967 §2.5.1.2 numbers SETs by them).
 * References to a bulkId no POST defines are left to fail at run time with a clear error.
 */
export function planBulk(ops: readonly BulkOperation[]): Step[] {
  const postByBulkId = new Map<string, number>();
  for (const op of ops) if (op.method === 'POST' && op.bulkId && !op.invalid) postByBulkId.set(op.bulkId, op.index);
  const deps: number[][] = ops.map((op) => {
    const d = new Set<number>();
    if (!op.invalid) for (const r of findRefs(op.path, op.data)) {
      const target = postByBulkId.get(r);
      if (target !== undefined) d.add(target); // itself included: a self-reference is a cycle of one
    }
    return [...d];
  });
  const { of, count } = components(deps);
  const members: number[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < ops.length; i++) members[of[i]!]!.push(i); // ascending: members[c][0] is the earliest
  const pending = new Int32Array(count); // component → number of components it still waits for
  const dependents: number[][] = Array.from({ length: count }, () => []);
  const cyclic = new Uint8Array(count);
  for (let c = 0; c < count; c++) {
    const needs = new Set<number>();
    for (const i of members[c]!) for (const t of deps[i]!) {
      if (of[t] === c) cyclic[c] = 1;
      else needs.add(of[t]!);
    }
    pending[c] = needs.size;
    for (const d of needs) dependents[d]!.push(c);
  }
  const steps: Step[] = [];
  // Ready components keyed by their earliest operation: the client's order wherever dependencies allow.
  const ready = new MinHeap();
  for (let c = 0; c < count; c++) if (pending[c] === 0) ready.push(members[c]![0]!);
  for (let first = ready.pop(); first !== undefined; first = ready.pop()) {
    const c = of[first]!;
    const m = members[c]!;
    if (!cyclic[c]) steps.push({ kind: 'op', index: first });
    else {
      const cyclicIds = new Set(m.map((i) => ops[i]!.bulkId!));
      steps.push({ kind: 'cycle', members: m.map((i) => ({ index: i, stripped: stripRefs(ops[i]!.data, cyclicIds) })) });
    }
    for (const d of dependents[c]!) if (--pending[d]! === 0) ready.push(members[d]![0]!);
  }
  return steps;
}

/**
 * The 409 every member of a circular bulkId reference gets when the attempt to resolve it failed
 * (RFC 7644 §3.7.1 "MAY stop after a failed attempt and return 409"); `reason` says why.
 */
export function unresolvableCycle(indexes: readonly number[], reason: string): ScimError {
  const who = indexes.length === 1 ? `Operations[${indexes[0]}] references its own bulkId, a circular reference that` : `The circular bulkId reference between ${indexes.map((i) => `Operations[${i}]`).join(', ')}`;
  return conflict(undefined, `${who} could not be resolved (RFC 7644 §3.7.1): ${reason}`);
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

/** RFC 7644 §3.7.3: stop once failOnErrors errors have happened. */
export function failOnErrorsReached(errors: number, failOnErrors: number | undefined): boolean {
  return failOnErrors !== undefined && errors >= failOnErrors;
}
