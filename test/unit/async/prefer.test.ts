import { describe, expect, it } from 'vitest';
import { parsePrefer } from '../../../src/async/prefer.js';

/** RFC 7240 §2 (syntax; the first occurrence wins), §4.1 respond-async, §4.3 wait. */
describe('parsePrefer (RFC 7240)', () => {
  it('no header: synchronous, no wait', () => {
    expect(parsePrefer(undefined)).toEqual({ respondAsync: false });
    expect(parsePrefer('')).toEqual({ respondAsync: false });
    expect(parsePrefer([])).toEqual({ respondAsync: false });
  });

  it('comma-separated preferences in one line (RFC 7240 §2)', () => {
    expect(parsePrefer('return=minimal, respond-async, wait=10')).toEqual({ respondAsync: true, wait: 10, return: 'minimal' });
    expect(parsePrefer('respond-async,wait=3')).toEqual({ respondAsync: true, wait: 3 });
  });

  it('preferences spread over several header lines (RFC 7240 §2)', () => {
    expect(parsePrefer(['return=minimal', 'respond-async', 'wait=7'])).toEqual({ respondAsync: true, wait: 7, return: 'minimal' });
    expect(parsePrefer(['wait=2', 'handling=lenient, respond-async'])).toEqual({ respondAsync: true, wait: 2 });
  });

  it('names are case-insensitive (RFC 7240 §2)', () => {
    expect(parsePrefer('Respond-Async, WAIT=4')).toEqual({ respondAsync: true, wait: 4 });
    expect(parsePrefer('RESPOND-ASYNC')).toEqual({ respondAsync: true });
  });

  it('the first occurrence wins, over lines and within a line (RFC 7240 §2)', () => {
    expect(parsePrefer('respond-async, wait=5, wait=1')).toEqual({ respondAsync: true, wait: 5 });
    expect(parsePrefer(['wait=9', 'respond-async, Wait=2'])).toEqual({ respondAsync: true, wait: 9 });
    // An invalid first wait is not replaced by a later valid one: the later one is ignored.
    expect(parsePrefer('respond-async, wait=soon, wait=3')).toEqual({ respondAsync: true });
  });

  it('unknown preferences and their parameters are ignored without error (RFC 7240 §2)', () => {
    expect(parsePrefer('handling=strict, foo="a,b;c", priority=5')).toEqual({ respondAsync: false });
    expect(parsePrefer('foo="x, respond-async", bar')).toEqual({ respondAsync: false }); // inside quotes: not a preference
    expect(parsePrefer('respond-async; foo=bar, wait=6; unit=s')).toEqual({ respondAsync: true, wait: 6 });
    expect(parsePrefer(' , ,respond-async,, ')).toEqual({ respondAsync: true });
  });

  it('wait=N: a non-negative integer number of seconds, also quoted; anything else is no wait (RFC 7240 §4.3)', () => {
    expect(parsePrefer('respond-async, wait=0')).toEqual({ respondAsync: true, wait: 0 });
    expect(parsePrefer('respond-async, wait="12"')).toEqual({ respondAsync: true, wait: 12 });
    expect(parsePrefer('respond-async, wait = 8')).toEqual({ respondAsync: true, wait: 8 });
    for (const bad of ['wait=-1', 'wait=1.5', 'wait=', 'wait', 'wait=1e3', 'wait=0x10', 'wait=9999999999']) {
      expect(parsePrefer(`respond-async, ${bad}`), bad).toEqual({ respondAsync: true });
    }
    // wait alone does not ask for async processing.
    expect(parsePrefer('wait=5')).toEqual({ respondAsync: false, wait: 5 });
  });

  it('X-SCIM-Request-Mode: asynchronous is a synonym of respond-async', () => {
    expect(parsePrefer(undefined, 'asynchronous')).toEqual({ respondAsync: true });
    expect(parsePrefer(undefined, ' Asynchronous ')).toEqual({ respondAsync: true });
    expect(parsePrefer(undefined, ['asynchronous', 'synchronous'])).toEqual({ respondAsync: true });
    expect(parsePrefer('wait=3', 'asynchronous')).toEqual({ respondAsync: true, wait: 3 });
    expect(parsePrefer(undefined, 'synchronous')).toEqual({ respondAsync: false });
    expect(parsePrefer(undefined, 'async')).toEqual({ respondAsync: false });
  });

  it('return=minimal|representation (RFC 7240 §4.2), case-insensitive; any other value is ignored', () => {
    expect(parsePrefer('return=minimal')).toEqual({ respondAsync: false, return: 'minimal' });
    expect(parsePrefer('Return="Representation"')).toEqual({ respondAsync: false, return: 'representation' });
    expect(parsePrefer('return=full')).toEqual({ respondAsync: false });
    expect(parsePrefer('return=minimal, return=representation')).toEqual({ respondAsync: false, return: 'minimal' });
  });

  it('callback="<url>" keeps the URL as sent, commas and semicolons inside the quotes included', () => {
    expect(parsePrefer('respond-async, callback="https://r.example/cb?a=1,b;c"')).toEqual({ respondAsync: true, callback: 'https://r.example/cb?a=1,b;c' });
  });

  it('priority=high|normal|low; an unknown value is ignored', () => {
    expect(parsePrefer('respond-async, priority=HIGH')).toEqual({ respondAsync: true, priority: 'high' });
    expect(parsePrefer('respond-async, priority="low"')).toEqual({ respondAsync: true, priority: 'low' });
    expect(parsePrefer('respond-async, priority=urgent')).toEqual({ respondAsync: true });
  });
});
