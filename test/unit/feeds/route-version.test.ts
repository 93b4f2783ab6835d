import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derivedJti } from '../../../src/core/ids.js';
import { obsoleteVersions, route, versionAt, type FeedVersion, type Routing } from '../../../src/feeds/route-version.js';
import { committedBefore, parseSnapshot } from '../../../src/feeds/snapshot.js';

/**
 * The fan-out routes a change after its commit, by what each stream wanted when the change
 * committed: a stream created later does not get it, and a stream's new filter applies from the
 * next change. Snapshots decide "before" the way PostgreSQL's pg_visible_in_snapshot() does.
 */
const EV = 'urn:ietf:params:scim:event:prov:';
const routing = (over: Partial<Routing> = {}): Routing => ({
  eventsDelivered: [`${EV}create:notice`],
  resourceTypes: [],
  defaultSubjects: 'ALL',
  accepting: true,
  profile: 'rfc9967',
  aud: 'https://rp.example',
  kidMode: 'kid',
  ...over,
});
const v = (feedId: string, version: number, snapshot: string, r: Partial<Routing> = {}, owner = 'alice'): FeedVersion => ({ feedId, owner, version, snapshot: parseSnapshot(snapshot), routing: routing(r) });
const change = (xid: number, over: Partial<Parameters<typeof route>[0]> = {}) => ({
  xid: BigInt(xid),
  kind: 'prov' as const,
  resourceType: 'User',
  subjectUri: '/Users/1',
  uris: [`${EV}create:full`, `${EV}create:notice`],
  owner: null,
  feedId: null,
  ...over,
});

describe('snapshots', () => {
  it('a transaction committed before the snapshot: below xmin, or below xmax and not in progress', () => {
    const s = parseSnapshot('100:110:102,105');
    expect([99n, 100n, 101n, 102n, 105n, 109n, 110n, 200n].map((x) => committedBefore(x, s))).toEqual([true, true, true, false, false, true, false, false]);
    expect(committedBefore(5n, parseSnapshot('1:1:'))).toBe(false);
  });

  it('refuses what is not a snapshot', () => {
    expect(() => parseSnapshot('nope')).toThrow(RangeError);
  });
});

describe('routing a change by the stream version of its commit', () => {
  it('a stream created after the change (its first snapshot sees it) does not get it', () => {
    const byFeed = new Map([['f', [v('f', 1, '50:50:')]]]);
    expect(route(change(40), byFeed, [])).toEqual([]);
    expect(route(change(60), byFeed, []).map((t) => t.uris)).toEqual([[`${EV}create:notice`]]);
  });

  it('a filter change applies from the next change; changes before it keep the old filter', () => {
    const versions = [v('f', 1, '10:10:'), v('f', 2, '50:50:', { eventsDelivered: [`${EV}create:full`] })];
    expect(versionAt(versions, 30n)?.version).toBe(1);
    expect(versionAt(versions, 70n)?.version).toBe(2);
    const byFeed = new Map([['f', versions]]);
    expect(route(change(30), byFeed, [])[0]!.uris).toEqual([`${EV}create:notice`]);
    expect(route(change(70), byFeed, [])[0]!.uris).toEqual([`${EV}create:full`]);
  });

  it('a change in progress when the filter changed is routed by the new filter (it committed after)', () => {
    const versions = [v('f', 1, '10:10:'), v('f', 2, '40:60:45', { accepting: false })];
    expect(route(change(45), new Map([['f', versions]]), [])).toEqual([]);
  });

  it('a disabled version drops changes; resource types and subjects filter them', () => {
    const byFeed = new Map([
      ['off', [v('off', 1, '1:1:', { accepting: false })]],
      ['groups', [v('groups', 1, '1:1:', { resourceTypes: ['Group'] })]],
      ['subjects', [v('subjects', 1, '1:1:', { defaultSubjects: 'NONE' })]],
    ]);
    expect(route(change(10), byFeed, [])).toEqual([]);
    const held = { feedId: 'subjects', subjectUri: '/Users/1', added: parseSnapshot('5:5:'), removed: parseSnapshot('20:20:') };
    expect(route(change(10), byFeed, [held]).map((t) => t.feedId)).toEqual(['subjects']);
    // Committed after the removal, or before the addition: not the stream's.
    expect(route(change(25), byFeed, [held])).toEqual([]);
    expect(route(change(3), byFeed, [held])).toEqual([]);
  });

  it("an asyncresp goes to the requester's streams only; a stream event to its stream only", () => {
    const byFeed = new Map([
      ['mine', [v('mine', 1, '1:1:', { eventsDelivered: ['urn:ietf:params:scim:event:misc:asyncresp'], resourceTypes: ['Group'] })]],
      ['theirs', [v('theirs', 1, '1:1:', { eventsDelivered: ['urn:ietf:params:scim:event:misc:asyncresp'] }, 'bob')]],
    ]);
    const a = change(10, { kind: 'asyncresp', uris: ['urn:ietf:params:scim:event:misc:asyncresp'], owner: 'alice' });
    expect(route(a, byFeed, []).map((t) => t.feedId)).toEqual(['mine']);
    const s = change(10, { kind: 'stream', uris: ['https://schemas.openid.net/secevent/ssf/event-type/stream-updated'], feedId: 'theirs' });
    expect(route(s, byFeed, []).map((t) => [t.feedId, t.uris])).toEqual([['theirs', ['https://schemas.openid.net/secevent/ssf/event-type/stream-updated']]]);
  });

  it("a per-request callback feed gets its own request's asyncresp and nothing else", () => {
    const ASYNC = 'urn:ietf:params:scim:event:misc:asyncresp';
    const cb = (feedId: string, txn: string): FeedVersion => ({ ...v(feedId, 1, '1:1:', { eventsDelivered: [ASYNC] }), callbackTxn: txn });
    const byFeed = new Map([
      ['mine', [v('mine', 1, '1:1:', { eventsDelivered: [ASYNC, `${EV}create:notice`] })]],
      ['cb-t1', [cb('cb-t1', 't1')]],
      ['cb-t2', [cb('cb-t2', 't2')]],
    ]);
    const a = change(10, { kind: 'asyncresp', uris: [ASYNC], owner: 'alice', txnBase: 't1' });
    expect(route(a, byFeed, []).map((t) => t.feedId)).toEqual(['mine', 'cb-t1']);
    // Another owner's request with the same txn base could not exist; the owner is not what decides.
    expect(route({ ...a, owner: 'bob' }, byFeed, []).map((t) => t.feedId)).toEqual(['cb-t1']);
    expect(route(change(10, { txnBase: 't1' }), byFeed, []).map((t) => t.feedId)).toEqual(['mine']);
  });

  it('old versions are dropped once no waiting change can need them', () => {
    const versions = [v('f', 1, '10:10:'), v('f', 2, '50:50:'), v('f', 3, '90:95:')];
    expect(obsoleteVersions(versions, 30n).map((x) => x.version)).toEqual([]);
    expect(obsoleteVersions(versions, 60n).map((x) => x.version)).toEqual([1]);
    expect(obsoleteVersions(versions, undefined).map((x) => x.version)).toEqual([1, 2]);
  });

  it('property: routing by versions equals routing by the one version whose time span holds the commit', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 2, max: 1000 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 1100 }), (points, xid) => {
        const sorted = [...points].sort((a, b) => a - b);
        const versions = sorted.map((p, i) => v('f', i + 1, `${p}:${p}:`, { aud: `aud-${i + 1}` }));
        const expected = sorted.filter((p) => xid >= p).length; // versions taken before the change committed
        const got = versionAt(versions, BigInt(xid));
        expect(got?.version).toBe(expected === 0 ? undefined : expected);
      }),
    );
  });
});

describe('derived jti', () => {
  it('the same change, stream and URI give the same jti; any other gives another, sorted by time then write order', () => {
    const a = derivedJti(1_700_000_000_000, 7, 'c1', 'f1', 'u');
    expect(derivedJti(1_700_000_000_000, 7, 'c1', 'f1', 'u')).toBe(a);
    expect(a).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Set([a, derivedJti(1_700_000_000_000, 7, 'c1', 'f2', 'u'), derivedJti(1_700_000_000_000, 7, 'c1', 'f1', 'v')]).size).toBe(3);
    expect(derivedJti(1_700_000_000_000, 8, 'c0', 'f1', 'u') > a).toBe(true);
    expect(derivedJti(1_700_000_000_001, 1, 'c0', 'f1', 'u') > a).toBe(true);
  });
});
