import { EVENT } from '../events/uris.js';
import type { Change } from '../provisioning/outcome.js';

/** What routing needs to know about a feed (a subset of its row). */
export interface FeedTarget {
  id: string;
  eventsDelivered: readonly string[];
  resourceTypes: readonly string[];
  defaultSubjects: string;
}

const CANDIDATES: Record<Change['kind'], string[]> = {
  create: [EVENT.createFull, EVENT.createNotice],
  put: [EVENT.putFull, EVENT.putNotice],
  patch: [EVENT.patchFull, EVENT.patchNotice],
  delete: [EVENT.delete],
};

/**
 * The canonical event URIs one change can produce (RFC 9967 §2.4): the prov event in both
 * detail levels, and activate/deactivate when `active` flips on an existing resource (§2.4.5, §2.4.6).
 */
export function candidateEvents(change: Change): string[] {
  const out = [...CANDIDATES[change.kind]];
  const before = change.before?.active;
  const after = change.after?.active;
  if (change.kind !== 'create' && change.kind !== 'delete' && typeof after === 'boolean' && before !== after) {
    out.push(after ? EVENT.activate : EVENT.deactivate);
  }
  return out;
}

/**
 * For each feed, the URIs it gets for this change: those it delivers, for resource types it
 * wants, and, when its default_subjects is NONE, only for subjects added to it (SSF 1.0 §8.1.3).
 */
export function routeChange(
  feeds: readonly FeedTarget[],
  change: Change,
  subscribed: ReadonlySet<string>,
): { feedId: string; uris: string[] }[] {
  const candidates = candidateEvents(change);
  const out: { feedId: string; uris: string[] }[] = [];
  for (const f of feeds) {
    if (f.resourceTypes.length > 0 && !f.resourceTypes.includes(change.type)) continue;
    if (f.defaultSubjects === 'NONE' && !subscribed.has(f.id)) continue;
    const uris = candidates.filter((u) => f.eventsDelivered.includes(u));
    if (uris.length > 0) out.push({ feedId: f.id, uris });
  }
  return out;
}
