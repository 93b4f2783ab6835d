/**
 * `bulkId:<id>` references (RFC 7644 §3.7.2): anywhere in an operation's path or data,
 * in any attribute — members.value, the enterprise manager.value, extension attributes.
 */
const PREFIX = 'bulkId:';

export function refOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.startsWith(PREFIX) && value.length > PREFIX.length ? value.slice(PREFIX.length) : undefined;
}

/**
 * Every bulkId referenced by a path and a data value, walking without recursion. Children are
 * pushed one by one: `push(...v)` passes each element as an argument, and an array of some
 * 150,000 elements (well within the bulk payload limit) overflows the call stack.
 */
export function findRefs(path: string, data: unknown): Set<string> {
  const out = new Set<string>();
  for (const seg of path.split('/')) {
    const r = refOf(seg);
    if (r) out.add(r);
  }
  const stack: unknown[] = [data];
  while (stack.length > 0) {
    const v = stack.pop();
    const r = refOf(v);
    if (r) out.add(r);
    else if (Array.isArray(v)) for (const x of v) stack.push(x);
    else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) stack.push(x);
  }
  return out;
}

/**
 * A path with each `bulkId:<id>` segment replaced by its id ("/Users/bulkId:u1" → "/Users/<id>"),
 * as findRefs reads it; `missing` lists references with no id yet.
 */
export function resolvePathRefs(path: string, ids: ReadonlyMap<string, string>): { value: string; missing: string[] } {
  const missing: string[] = [];
  const value = path
    .split('/')
    .map((seg) => {
      const r = refOf(seg);
      if (r === undefined) return seg;
      const id = ids.get(r);
      if (id === undefined) missing.push(r);
      return id ?? seg;
    })
    .join('/');
  return { value, missing };
}

/** A deep copy with each reference replaced by its id; `missing` lists references with no id. */
export function resolveRefs<T>(value: T, ids: ReadonlyMap<string, string>): { value: T; missing: string[] } {
  const missing: string[] = [];
  const walk = (v: unknown): unknown => {
    const r = refOf(v);
    if (r !== undefined) {
      const id = ids.get(r);
      if (id === undefined) missing.push(r);
      return id ?? v;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return { value: walk(value) as T, missing };
}

/**
 * The same data without the references in `drop`: array elements that hold one are removed
 * (a member), and an object member that holds one is removed with its parent object when that
 * object is then left without a value (manager: {value: "bulkId:x"}). Used to break cycles.
 */
export function stripRefs<T>(value: T, drop: ReadonlySet<string>): T {
  const holds = (v: unknown): boolean => {
    const r = refOf(v);
    if (r !== undefined) return drop.has(r);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return Object.values(v).some((x) => refOf(x) !== undefined && drop.has(refOf(x)!));
    return false;
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.filter((x) => !holds(x)).map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => !holds(x)).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
