import { streamLabel, type AppMetrics } from '../core/app-metrics.js';
import type { Clock } from '../core/clock.js';
import { derivedJti, isCallbackFeed } from '../core/ids.js';
import { provPayload, setClaims, type SetClaims, type SubId } from '../events/claims.js';
import type { SetSigner } from '../events/sign.js';
import { txnFor, type EventProfile } from '../events/uris.js';
import type { ChangeRow, NewEvent, Storage } from '../storage/index.js';
import type { ProvData } from './outbox.js';
import { obsoleteVersions, route, snapshotOf, type FeedVersion, type Routing, type SubjectEntry } from './route-version.js';
import { parseSnapshot } from './snapshot.js';

export interface FanoutDeps {
  readonly storage: Storage;
  /** SET issuer: BASE_URL. */
  readonly iss: string;
  readonly clock: Clock;
  readonly sign: SetSigner;
  /** Changes per transaction. */
  readonly batch: number;
  readonly metrics?: Pick<AppMetrics, 'setsCreated'> | undefined;
}

/** One SET to sign: the change, the stream's routing as of the change's commit, the URI. */
interface Planned {
  change: ChangeRow;
  feedId: string;
  routing: Routing;
  uri: string;
}

function versionsByFeed(rows: Awaited<ReturnType<Storage['changes']['versions']>>): Map<string, FeedVersion[]> {
  const out = new Map<string, FeedVersion[]>();
  for (const r of rows) {
    const list = out.get(r.feedId) ?? [];
    list.push({ feedId: r.feedId, owner: r.owner, callbackTxn: r.callbackTxn, version: r.version, snapshot: parseSnapshot(r.snapshot), routing: r.routing as Routing });
    out.set(r.feedId, list);
  }
  return out;
}

/** The claims of one SET. Its times are the change's, so signing it again yields the same claims. */
export function claimsFor(iss: string, p: Planned): SetClaims {
  const c = p.change;
  const profile = p.routing.profile as EventProfile;
  const jti = derivedJti(c.createdAt.getTime(), c.seq, c.id, p.feedId, p.uri);
  const txn = txnFor(profile, { base: c.txnBase, index: c.opIndex ?? undefined });
  const payload = c.kind === 'prov' ? provPayload(p.uri, c.data as ProvData) : (c.data as Record<string, unknown>);
  return setClaims({ iss, aud: p.routing.aud, jti, txn, now: c.createdAt, profile }, c.subject as SubId, p.uri, payload);
}

/**
 * One fan-out step, in one transaction: take the oldest waiting changes, route each to the
 * streams that wanted it when it committed, sign their SETs, store them (many per statement) and
 * delete the changes. Everything commits together or not at all, and a jti is derived from the
 * change, stream and URI: a crash anywhere before the commit leaves the changes to be signed
 * again into the very same SET identities. One fan-out runs at a time across processes (an
 * advisory lock), so each stream's SETs are stored in the order the changes were written.
 * Returns how many changes it took, or undefined when another process holds the lock.
 */
export async function fanOutOnce(d: FanoutDeps, opts: { wait?: boolean } = {}): Promise<number | undefined> {
  return d.storage.withTx(async (s) => {
    if (!(await s.changes.lockFanout(opts.wait ?? false))) return undefined;
    const batch = await s.changes.oldest(d.batch);
    if (batch.length === 0) return 0;
    // Streams, and the per-request callback feeds of the requests whose results are in the batch.
    const asyncTxns = [...new Set(batch.filter((c) => c.kind === 'asyncresp').map((c) => c.txnBase))];
    const byFeed = versionsByFeed(await s.changes.versions(asyncTxns));
    const subjects: SubjectEntry[] = (await s.changes.subjects([...new Set(batch.filter((c) => c.kind === 'prov').map((c) => c.subjectUri))])).map((r) => ({
      feedId: r.feedId,
      subjectUri: r.subjectUri,
      added: parseSnapshot(r.addedSnapshot),
      removed: snapshotOf(r.removedSnapshot),
    }));
    const planned: Planned[] = [];
    const opSets: { txnId: string; opIndex: number; sets: { stream_id: string; jti: string }[] }[] = [];
    for (const change of batch) {
      const targets = route({ ...change, xid: BigInt(change.xid), kind: change.kind as 'prov' | 'asyncresp' | 'stream' }, byFeed, subjects.filter((e) => e.subjectUri === change.subjectUri));
      const mine = targets.flatMap((t) => t.uris.map((uri) => ({ change, feedId: t.feedId, routing: t.routing, uri })));
      planned.push(...mine);
      if (change.kind === 'asyncresp') {
        // `sets` lists the requester's streams; the callback's delivery has its own member (status.ts).
        const streams = mine.filter((p) => !isCallbackFeed(p.feedId));
        opSets.push({ txnId: change.txnBase, opIndex: change.opIndex ?? 0, sets: streams.map((p) => ({ stream_id: p.feedId, jti: derivedJti(change.createdAt.getTime(), change.seq, change.id, p.feedId, p.uri) })) });
      }
    }
    const now = d.clock.now();
    const signed = async (p: Planned): Promise<NewEvent> => {
      const claims = claimsFor(d.iss, p);
      const jws = await d.sign(claims, { storage: s, kidMode: p.routing.kidMode === 'issuer' ? 'issuer' : 'kid' });
      return { jti: claims.jti, feedId: p.feedId, txn: claims.txn, eventUri: p.uri, subjectUri: p.change.subjectUri, jws, createdAt: p.change.createdAt, queuedAt: now };
    };
    // The first signature reads (and locks) the current key in this transaction; the others reuse
    // it and are computed concurrently: WebCrypto signs off the JavaScript thread.
    const rows: NewEvent[] = planned.length === 0 ? [] : [await signed(planned[0]!)];
    rows.push(...(await Promise.all(planned.slice(1).map(signed))));
    await s.events.insert(rows);
    await s.changes.recordOpSets(opSets);
    const minWaiting = await s.changes.closeBatch(batch.map((c) => c.seq));
    await s.changes.dropVersions([...byFeed.values()].flatMap((v) => obsoleteVersions(v, minWaiting)));
    for (const r of rows) d.metrics?.setsCreated.inc({ stream: streamLabel(r.feedId) });
    return batch.length;
  });
}

/** Fan out until nothing waits (tests, and a worker catching up before it sleeps). */
export async function fanOutAll(d: FanoutDeps): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await fanOutOnce(d, { wait: true });
    if (!n) return total;
    total += n;
  }
}
