import type { ImportItem } from './items.js';

/**
 * The order of creation across batches: a group can be written once every item of the file it
 * lists as a member exists (its id is known, or it is created earlier in the same Bulk request
 * and referenced as `bulkId:`, RFC 7644 §3.7.2). Users reference nothing, so they come first.
 *
 * Groups that contain each other form a cycle no order satisfies. RFC 7644 §3.7.1 lets a server
 * give up on circular bulkId references (409), so the client breaks cycles itself: the group of
 * the cycle with the fewest unmet references is written without them, and those members are
 * added by a PATCH once they exist ("deferred").
 */
export interface DependencyPlan {
  /** Item indexes: users in file order, then groups in an order that respects their references. */
  readonly order: number[];
  /** Group index → externalIds of in-file members added after both exist (cycle breaking). */
  readonly deferred: Map<number, Set<string>>;
  /** externalIds members refer to that no item of the file has: they must already be on the server. */
  readonly external: Set<string>;
}

export function planDependencies(items: readonly ImportItem[]): DependencyPlan {
  const byExternalId = new Map(items.map((it, i) => [it.externalId, i]));
  const external = new Set<string>();
  const deps: Set<number>[] = items.map(() => new Set());
  const dependents: number[][] = items.map(() => []);
  items.forEach((it, i) => {
    for (const m of it.members) {
      if (!('externalId' in m)) continue;
      const j = byExternalId.get(m.externalId);
      if (j === undefined) external.add(m.externalId);
      else if (!deps[i]!.has(j)) {
        deps[i]!.add(j);
        dependents[j]!.push(i);
      }
    }
  });

  const unmet = deps.map((d) => d.size);
  const emitted = new Array<boolean>(items.length).fill(false);
  const deferred = new Map<number, Set<string>>();
  const order: number[] = [];
  const queue: number[] = [];
  items.forEach((it, i) => it.type === 'user' && unmet[i] === 0 && queue.push(i));
  items.forEach((it, i) => it.type === 'group' && unmet[i] === 0 && queue.push(i));

  const emit = (i: number) => {
    emitted[i] = true;
    order.push(i);
    for (const g of dependents[i]!) {
      if (emitted[g] || deferred.get(g)?.has(items[i]!.externalId)) continue;
      if (--unmet[g]! === 0) queue.push(g);
    }
  };

  let head = 0;
  while (order.length < items.length) {
    if (head < queue.length) {
      const i = queue[head++]!;
      if (!emitted[i]) emit(i);
      continue;
    }
    // Stuck: every remaining item is in or behind a cycle. Break it at the cheapest group.
    let pick = -1;
    for (let i = 0; i < items.length; i++) if (!emitted[i] && (pick < 0 || unmet[i]! < unmet[pick]!)) pick = i;
    const later = new Set([...deps[pick]!].filter((j) => !emitted[j]).map((j) => items[j]!.externalId));
    deferred.set(pick, later);
    unmet[pick] = 0;
    queue.push(pick);
  }
  return { order, deferred, external };
}
