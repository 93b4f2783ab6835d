/**
 * Strongly connected components of the bulkId dependency graph (RFC 7644 §3.7.1 circular
 * references): `deps[i]` lists the nodes node i needs first. Tarjan's algorithm, iterative so
 * that a 10,000-operation chain cannot overflow the stack. Returns each node's component number;
 * components are numbered so that every component's dependencies have smaller numbers.
 */
export function components(deps: readonly (readonly number[])[]): { of: Int32Array; count: number } {
  const n = deps.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const of = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  let next = 0;
  let count = 0;
  // Explicit DFS: each frame is a node and how many of its edges it has walked.
  const frames: { v: number; e: number }[] = [];
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    frames.push({ v: root, e: 0 });
    index[root] = low[root] = next++;
    stack.push(root);
    onStack[root] = 1;
    while (frames.length > 0) {
      const f = frames[frames.length - 1]!;
      const edges = deps[f.v]!;
      if (f.e < edges.length) {
        const w = edges[f.e++]!;
        if (index[w] === -1) {
          index[w] = low[w] = next++;
          stack.push(w);
          onStack[w] = 1;
          frames.push({ v: w, e: 0 });
        } else if (onStack[w]) low[f.v] = Math.min(low[f.v]!, index[w]!);
        continue;
      }
      frames.pop();
      if (frames.length > 0) {
        const parent = frames[frames.length - 1]!.v;
        low[parent] = Math.min(low[parent]!, low[f.v]!);
      }
      if (low[f.v] === index[f.v]) {
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          of[w] = count;
        } while (w !== f.v);
        count++;
      }
    }
  }
  return { of, count };
}
