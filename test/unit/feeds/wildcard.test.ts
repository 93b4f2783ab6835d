import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL_SCIM_EVENT_URIS, normalizeEventUri } from '../../../src/events/uris.js';
import { eventsDelivered } from '../../../src/feeds/stream-config.js';
import { compileWildcard, matchWildcard } from '../../../src/feeds/wildcard.js';

/**
 * `*` patterns in events_requested come from receivers. They are matched without regular
 * expressions, so no pattern, however many `*`s it has, can hold the event loop: a backtracking
 * regex took about 1.5 s for `*******Z` against the event URIs and 7 times more per extra `*`.
 */
const EV = 'urn:ietf:params:scim:event:';
const SUPPORTED = ALL_SCIM_EVENT_URIS;
const delivered = (requested: string[]) => eventsDelivered(requested, SUPPORTED, normalizeEventUri);

/** The textbook dynamic-programming glob match (no shortcuts), as the reference. */
function reference(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  // m[i][j]: the first i characters of p match the first j characters of t.
  const m = Array.from({ length: p.length + 1 }, () => Array<boolean>(t.length + 1).fill(false));
  m[0]![0] = true;
  for (let i = 1; i <= p.length; i++) {
    for (let j = 0; j <= t.length; j++) {
      if (p[i - 1] === '*') m[i]![j] = m[i - 1]![j]! || (j > 0 && m[i]![j - 1]!);
      else m[i]![j] = j > 0 && m[i - 1]![j - 1]! && p[i - 1] === t[j - 1];
    }
  }
  return m[p.length]![t.length]!;
}

describe('wildcard matching of events_requested', () => {
  it('matches as before: `*` is any run of characters, case is ignored, runs of `*` count as one', () => {
    expect(delivered([`${EV}prov:*`])).toEqual(SUPPORTED.filter((u) => u.startsWith(`${EV}prov:`)));
    expect(delivered(['URN:IETF:PARAMS:SCIM:EVENT:PROV:*:NOTICE'])).toEqual([`${EV}prov:create:notice`, `${EV}prov:patch:notice`, `${EV}prov:put:notice`]);
    expect(delivered(['*'])).toEqual([...SUPPORTED]);
    expect(delivered(['***'])).toEqual([...SUPPORTED]);
    expect(delivered([`${EV}prov:create:***full`])).toEqual([`${EV}prov:create:full`]);
    expect(delivered(['*:nothing'])).toEqual([]);
    expect(matchWildcard('a*a', 'a')).toBe(false); // head and tail may not share a character
    expect(matchWildcard('a*a', 'aa')).toBe(true);
    expect(matchWildcard('ab*ba*ab', 'abab')).toBe(false);
    expect(matchWildcard('ab*ba*ab', 'abbaab')).toBe(true);
    expect(matchWildcard('', '')).toBe(true);
    expect(matchWildcard('x', 'X')).toBe(true);
  });

  it('pathological patterns take microseconds, however many `*`s they have (each under a generous 250 ms)', () => {
    const text = 'a'.repeat(512);
    // In rising difficulty for a backtracking regex: with one, the first that blows up already
    // fails the bound (and a later one would not finish at all).
    const patterns = [
      ...[4, 6, 8, 10, 16, 64, 511].map((k) => '*'.repeat(k) + 'Z'),
      '*a'.repeat(255) + 'Z',
      `${'*aa'.repeat(170)}b`,
      `a${'*'.repeat(509)}b`,
      ('*' + 'x'.repeat(10)).repeat(46),
    ];
    for (const p of patterns) {
      expect(p.length).toBeLessThanOrEqual(512);
      const started = performance.now();
      delivered([p]);
      for (const s of [text, `${text}Z`, 'a'.repeat(511) + 'b', SUPPORTED.join('')]) compileWildcard(p)(s);
      const ms = performance.now() - started;
      expect(ms, `${p.slice(0, 20)}… (${p.length} characters)`).toBeLessThan(250);
    }
  });

  it('a whole request of the largest allowed pattern list is matched fast (under a generous 500 ms)', () => {
    const list = Array.from({ length: 100 }, (_, i) => '*'.repeat(400 + i) + 'Z'.repeat(i % 5 + 1));
    const started = performance.now();
    expect(delivered(list)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('agrees with the reference on random small patterns and texts (property)', () => {
    const pattern = fc.string({ unit: fc.constantFrom('a', 'A', 'b', ':', '*'), maxLength: 10 });
    const text = fc.string({ unit: fc.constantFrom('a', 'A', 'b', ':'), maxLength: 14 });
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        expect(matchWildcard(p, t), `${JSON.stringify(p)} ~ ${JSON.stringify(t)}`).toBe(reference(p, t));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with the reference on event URIs and patterns cut from them (property)', () => {
    const uri = fc.constantFrom(...SUPPORTED);
    const patternOf = fc.tuple(uri, fc.array(fc.nat(), { maxLength: 6 })).map(([u, cuts]) => {
      // Replace some characters of a real URI with `*`, so a good share of the cases match.
      const chars = [...u];
      for (const c of cuts) chars[c % chars.length] = '*';
      return chars.join('');
    });
    fc.assert(
      fc.property(patternOf, uri, (p, t) => {
        expect(matchWildcard(p, t)).toBe(reference(p, t));
      }),
      { numRuns: 1000 },
    );
  });

  it('random wildcard patterns up to the length bound, timed: none takes more than a generous 100 ms', () => {
    const unit = fc.constantFrom('*', '*', '*', 'a', 'b', ':');
    const pattern = fc.string({ unit, minLength: 1, maxLength: 512 });
    const text = fc.oneof(fc.string({ unit: fc.constantFrom('a', 'b', ':'), maxLength: 512 }), fc.constantFrom(...SUPPORTED));
    let slowest = 0;
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        const started = performance.now();
        compileWildcard(p)(t);
        delivered([p]);
        slowest = Math.max(slowest, performance.now() - started);
      }),
      { numRuns: 300 },
    );
    expect(slowest).toBeLessThan(100);
  });
});
