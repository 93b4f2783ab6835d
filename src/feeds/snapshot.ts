/**
 * PostgreSQL snapshots (`pg_current_snapshot()::text`, "xmin:xmax:xip,…") and transaction ids
 * (`pg_current_xact_id()::text`, 64-bit), compared without a round trip. The question asked is
 * always about a transaction known to have committed (its outbox row is visible): did it commit
 * before the snapshot was taken? It did when it is below xmin, or below xmax and not in progress
 * at the snapshot (PostgreSQL's own rule, pg_visible_in_snapshot()).
 */
export interface Snapshot {
  readonly xmin: bigint;
  readonly xmax: bigint;
  readonly xip: ReadonlySet<bigint>;
}

export function parseSnapshot(text: string): Snapshot {
  const [xmin, xmax, xip = ''] = text.split(':');
  if (xmin === undefined || xmax === undefined || !/^\d+$/.test(xmin) || !/^\d+$/.test(xmax)) throw new RangeError(`not a snapshot: ${text}`);
  return { xmin: BigInt(xmin), xmax: BigInt(xmax), xip: new Set(xip === '' ? [] : xip.split(',').map((x) => BigInt(x))) };
}

/** Whether the committed transaction `xid` had committed when `snap` was taken. */
export function committedBefore(xid: bigint, snap: Snapshot): boolean {
  if (xid < snap.xmin) return true;
  if (xid >= snap.xmax) return false;
  return !snap.xip.has(xid);
}
