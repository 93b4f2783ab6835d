import type { ResourceRow } from '../storage/index.js';

/**
 * The groups this process last wrote, as it left them: a hint that lets the common member add
 * (patch.ts addMembersAlone) skip its read. The hint is never trusted: the add's statement writes
 * only if the group is still at the hint's version, and every change to a group, from any process,
 * raises its version. A stale hint (another process wrote the group, a transaction that wrote it
 * rolled back, the group was deleted) therefore costs one statement that writes nothing, and the
 * add reads the group and goes on as if there had been no hint.
 */
export interface RecentGroups {
  /** The hint for `id`, removed: a hint serves one attempt. */
  take(id: string): ResourceRow | undefined;
  /** The row as a committed write left it. */
  remember(row: ResourceRow): void;
}

/** At most `capacity` groups, the least recently written dropped first. */
export function makeRecentGroups(capacity = 1_024): RecentGroups {
  const rows = new Map<string, ResourceRow>();
  return {
    take(id) {
      const row = rows.get(id);
      rows.delete(id);
      return row;
    },
    remember(row) {
      rows.delete(row.id);
      rows.set(row.id, row);
      if (rows.size > capacity) rows.delete(rows.keys().next().value!);
    },
  };
}
