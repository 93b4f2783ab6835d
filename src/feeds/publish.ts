import type { AppMetrics } from '../core/app-metrics.js';
import type { Clock } from '../core/clock.js';
import type { Ids } from '../core/ids.js';
import { provPayload, scimSubId, setClaims, type SetClaims } from '../events/claims.js';
import type { SetSigner } from '../events/sign.js';
import { EVENT, txnFor, type EventProfile, type TxnRef } from '../events/uris.js';
import type { Change } from '../provisioning/outcome.js';
import { redactPatchOp } from '../scim/patch/redact.js';
import type { FeedRow, NewEvent, Storage } from '../storage/index.js';
import { routeChange } from './targets.js';

export interface PublisherDeps {
  /** SET issuer: BASE_URL (spec-digest Q-23). */
  readonly iss: string;
  readonly ids: Ids;
  readonly clock: Clock;
  readonly sign: SetSigner;
  /** Called once per push feed that got new SETs, inside the same transaction (issue 7). */
  readonly onPushFeed?: ((s: Storage, feedId: string) => Promise<void>) | undefined;
  /** Counts stored SETs per stream (issue 7 §6); optional so tests and tools can leave it out. */
  readonly metrics?: Pick<AppMetrics, 'setsCreated'> | undefined;
}

const ENDPOINT = { User: '/Users', Group: '/Groups' } as const;

export interface OneSet {
  feed: FeedRow;
  subjectUri: string;
  canonicalUri: string;
  build: (env: { jti: string; now: Date }) => SetClaims;
}

/** Sign and store SETs in the caller's transaction: a SET exists if and only if its change committed. */
export async function storeSets(d: PublisherDeps, s: Storage, sets: OneSet[]): Promise<NewEvent[]> {
  const now = d.clock.now();
  const rows: NewEvent[] = [];
  for (const one of sets) {
    const jti = d.ids.jti(now);
    const claims = one.build({ jti, now });
    const jws = await d.sign(claims, { storage: s, kidMode: one.feed.kidMode === 'issuer' ? 'issuer' : 'kid' });
    rows.push({ jti, feedId: one.feed.id, txn: claims.txn, eventUri: one.canonicalUri, subjectUri: one.subjectUri, jws, createdAt: now });
  }
  await s.events.insert(rows);
  for (const r of rows) d.metrics?.setsCreated.inc({ stream: r.feedId });
  if (d.onPushFeed) {
    const pushFeeds = new Set(sets.filter((x) => x.feed.deliveryMethod === 'urn:ietf:rfc:8935').map((x) => x.feed.id));
    for (const f of pushFeeds) await d.onPushFeed(s, f);
  }
  return rows;
}

/**
 * The outbox hook (issue 5 §6): every matching feed gets one SET per event URI, built, signed
 * and stored in the transaction of the change.
 */
export function makeChangePublisher(d: PublisherDeps) {
  const many = makeChangesPublisher(d);
  return (s: Storage, change: Change, txn: TxnRef): Promise<void> => many(s, [{ change, txn }]);
}

/** Many changes of one transaction (bulk batches): feeds are read once, SETs stored in one insert. */
export function makeChangesPublisher(d: PublisherDeps) {
  return async (s: Storage, items: readonly { change: Change; txn: TxnRef }[]): Promise<void> => {
    if (items.length === 0) return;
    const feeds = await s.feeds.accepting();
    if (feeds.length === 0) return;
    const byId = new Map(feeds.map((f) => [f.id, f]));
    const subjectOnly = feeds.filter((f) => f.defaultSubjects === 'NONE').map((f) => f.id);
    const sets: OneSet[] = [];
    for (const { change, txn } of items) {
      const subjectUri = `${ENDPOINT[change.type]}/${change.id}`;
      const subscribed = subjectOnly.length > 0 ? await s.feeds.feedsWithSubject(subjectOnly, subjectUri) : new Set<string>();
      sets.push(...setsFor(d, byId, routeChange(feeds, change, subscribed), change, txn, subjectUri));
    }
    await storeSets(d, s, sets);
  };
}

/**
 * The `data` of a :full event (RFC 9967 §2.4): the representation after a create or put, which
 * already leaves out `returned: never` attributes (provisioning/representation.ts), or the PatchOp
 * without their values (scim/patch/redact.ts). Undefined when a PATCH changed only such attributes.
 */
function fullData(change: Change): unknown {
  return change.kind === 'patch' ? redactPatchOp(change.type, change.patchOp) : change.after;
}

function setsFor(d: PublisherDeps, byId: ReadonlyMap<string, FeedRow>, routes: { feedId: string; uris: string[] }[], change: Change, txn: TxnRef, subjectUri: string): OneSet[] {
  const resource = change.after ?? change.before;
  const subId = scimSubId(subjectUri, change.id, resource?.externalId);
  const data = fullData(change);
  // No valid PatchOp is left to carry (RFC 7644 §3.5.2 needs one operation): no patch:full SET.
  const sendable = (uri: string) => !(uri === EVENT.patchFull && data === undefined);
  return routes.flatMap(({ feedId, uris }) =>
    uris.filter(sendable).map((uri) => {
      const feed = byId.get(feedId)!;
      const payload = provPayload(uri, { data, attributes: change.attributes, version: change.after?.meta.version as string | undefined });
      return {
        feed,
        subjectUri,
        canonicalUri: uri,
        build: ({ jti, now }: { jti: string; now: Date }) =>
          setClaims({ iss: d.iss, aud: feed.aud, jti, txn: txnFor(feed.profile as EventProfile, txn), now, profile: feed.profile as EventProfile }, subId, uri, payload),
      };
    }),
  );
}
