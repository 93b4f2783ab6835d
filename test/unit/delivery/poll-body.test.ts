import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pollBody } from '../../../src/delivery/poll-body.js';

/** RFC 8936 §2.3: the poll response written as bytes from the stored strings is the JSON a client parses. */
const parse = (b: Buffer) => JSON.parse(b.toString('utf8')) as unknown;

describe('pollBody', () => {
  it('writes compact JWSs and ULID jtis as they are, in order, with moreAvailable', () => {
    const jtis = ['01M932T6KG70M2ZBYJQXB5DJ6Q', '01M932T6KG70M2ZBYJQXB5DJ6R'];
    const sets = ['eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJhIn0.c2ln', 'eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJiIn0.c2ln-_'];
    const body = pollBody(jtis, sets, true);
    expect(body.toString('utf8')).toBe(`{"sets":{"${jtis[0]}":"${sets[0]}","${jtis[1]}":"${sets[1]}"},"moreAvailable":true}`);
    expect(Object.keys((parse(body) as { sets: object }).sets)).toEqual(jtis);
    expect(pollBody([], [], false).toString('utf8')).toBe('{"sets":{},"moreAvailable":false}');
  });

  it('is valid JSON equal to the pairs for any strings: quotes, backslashes, control characters, non-ASCII', () => {
    const pairs = fc.uniqueArray(fc.tuple(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), { selector: ([k]) => k, maxLength: 20 });
    fc.assert(
      fc.property(pairs, fc.boolean(), (p, more) => {
        const body = pollBody(
          p.map(([k]) => k),
          p.map(([, v]) => v),
          more,
        );
        expect(parse(body)).toEqual({ sets: Object.fromEntries(p), moreAvailable: more });
      }),
      { numRuns: 300 },
    );
  });
});
