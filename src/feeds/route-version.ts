import { committedBefore, parseSnapshot, type Snapshot } from './snapshot.js';

/** A feed's routing as one version recorded it (drizzle/0005: the feeds_version trigger). */
export interface Routing {
  readonly eventsDelivered: readonly string[];
  readonly resourceTypes: readonly string[];
  readonly defaultSubjects: string;
  readonly accepting: boolean;
  readonly profile: string;
  readonly aud: string;
  readonly kidMode: string;
}

export interface FeedVersion {
  readonly feedId: string;
  readonly owner: string;
  /** A per-request callback feed (async/callback.ts): the one request whose asyncresp it gets. */
  readonly callbackTxn?: string | null | undefined;
  readonly version: number;
  readonly snapshot: Snapshot;
  readonly routing: Routing;
}

export interface SubjectEntry {
  readonly feedId: string;
  readonly subjectUri: string;
  readonly added: Snapshot;
  readonly removed: Snapshot | undefined;
}

/** What routing needs of an outbox row. */
export interface RoutedChange {
  readonly xid: bigint;
  /** The request the change belongs to (its Set-Txn): a callback feed gets only its request's asyncresp. */
  readonly txnBase?: string | undefined;
  readonly kind: 'prov' | 'asyncresp' | 'stream';
  readonly resourceType: string;
  readonly subjectUri: string;
  readonly uris: readonly string[];
  readonly owner: string | null;
  readonly feedId: string | null;
}

export interface Target {
  readonly feedId: string;
  readonly routing: Routing;
  readonly uris: string[];
}

export const snapshotOf = (text: string | null | undefined): Snapshot | undefined => (text ? parseSnapshot(text) : undefined);

/**
 * The version of a feed that held when the change committed: the newest one whose snapshot does
 * not yet see the change. None when every version already saw it: the feed was created after the
 * change and does not get it (SSF 1.0 §8: a stream carries the events that follow its creation).
 * `versions` are one feed's, oldest first.
 */
export function versionAt(versions: readonly FeedVersion[], xid: bigint): FeedVersion | undefined {
  let found: FeedVersion | undefined;
  for (const v of versions) {
    if (committedBefore(xid, v.snapshot)) break;
    found = v;
  }
  return found;
}

/** Whether an explicitly added subject was on the feed when the change committed. */
export function subjectHeld(e: SubjectEntry, xid: bigint): boolean {
  return !committedBefore(xid, e.added) && (e.removed === undefined || committedBefore(xid, e.removed));
}

/**
 * For each feed, the event URIs it gets for one change (RFC 9967 §2.4, SSF 1.0 §8.1): those it
 * delivers, for resource types it wants, for subjects it carries when default_subjects is NONE;
 * an asyncresp goes to the requester's feeds only (RFC 9967 §2.5.1), whatever their filters, and
 * to the callback feed of its own request; a callback feed gets nothing else; an event about a
 * stream goes to that stream only.
 * `byFeed`: every feed's versions, oldest first; `subjects`: entries for this change's subject.
 */
export function route(change: RoutedChange, byFeed: ReadonlyMap<string, readonly FeedVersion[]>, subjects: readonly SubjectEntry[]): Target[] {
  if (change.kind === 'stream') {
    // An event about a stream goes to that stream as long as it exists, in its newest form: the
    // caller decided it is due (a stream-updated SET announces a disabling too).
    const newest = change.feedId ? byFeed.get(change.feedId)?.at(-1) : undefined;
    return newest ? [{ feedId: newest.feedId, routing: newest.routing, uris: [...change.uris] }] : [];
  }
  const out: Target[] = [];
  for (const [feedId, versions] of byFeed) {
    const v = versionAt(versions, change.xid);
    if (!v || !v.routing.accepting) continue;
    if (v.callbackTxn) {
      if (change.kind !== 'asyncresp' || change.txnBase !== v.callbackTxn) continue;
    } else if (change.kind === 'asyncresp') {
      if (v.owner !== change.owner) continue;
    } else {
      if (v.routing.resourceTypes.length > 0 && !v.routing.resourceTypes.includes(change.resourceType)) continue;
      if (v.routing.defaultSubjects === 'NONE' && !subjects.some((e) => e.feedId === feedId && e.subjectUri === change.subjectUri && subjectHeld(e, change.xid))) continue;
    }
    const uris = change.uris.filter((u) => v.routing.eventsDelivered.includes(u));
    if (uris.length > 0) out.push({ feedId, routing: v.routing, uris });
  }
  return out;
}

/**
 * Versions no change can need any more: all but the newest of those whose snapshot sees no
 * waiting change. Every change still to come commits after every existing snapshot, and a change
 * waiting with an xid of `minWaiting` or more is not seen by a snapshot whose xmax is at most that.
 * `minWaiting` undefined: nothing waits.
 */
export function obsoleteVersions(versions: readonly FeedVersion[], minWaiting: bigint | undefined): FeedVersion[] {
  let keepFrom = -1;
  versions.forEach((v, i) => {
    if (minWaiting === undefined || v.snapshot.xmax <= minWaiting) keepFrom = i;
  });
  return keepFrom <= 0 ? [] : versions.slice(0, keepFrom);
}
