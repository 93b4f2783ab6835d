import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { expectNo5xx, expectScimClientError, fcParams, snapshot, USER } from './support.js';

/**
 * Hostile RFC 8936 poll bodies. `ack` and `setErrs` change SET states, so a refused
 * poll must acknowledge nothing and dead-letter nothing, even when it names real jtis next to a
 * malformed member (RFC 8936 §2.2, §2.5.1). Never a 5xx.
 */
let t: TestApp;
let streamId: string;
let pollUrl: string;
beforeAll(async () => {
  // Short long-polls: a valid generated poll with returnImmediately false must not hold the run.
  t = await startTestApp({ SCIMCAST_POLL_TIMEOUT_MS: '10', SCIMCAST_POLL_MAX_TIMEOUT_MS: '20' });
  streamId = (await t.req('POST', '/ssf/streams', { events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] })).json().stream_id;
  pollUrl = `/ssf/streams/${streamId}/poll`;
  await makeEvents(5);
});
afterAll(async () => {
  await t?.close();
});

let serial = 0;
async function makeEvents(n: number) {
  for (let i = 0; i < n; i++) await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `poll-${serial++}` });
}

/** Placeholders REAL0..REAL4 become the stream's newest jtis at send time. */
async function realJtis(): Promise<string[]> {
  await t.settle();
  const { rows } = await t.database.pool.query<{ jti: string }>('select jti from events where feed_id = $1 order by seq desc limit 5', [streamId]);
  return rows.map((r) => r.jti);
}

const jti = fc.oneof(fc.constantFrom('REAL0', 'REAL1', 'REAL2', 'REAL3', 'REAL4'), fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('', ' ', '*', '%', "' or 1=1 --"));
const setErr = fc.oneof(
  fc.record({ err: fc.constantFrom('invalid_request', 'invalid_key', 'authentication_failed', 'jwtParse', 'x'), description: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }) }, { requiredKeys: ['err'] }),
  fc.jsonValue({ maxDepth: 2 }),
);
const member = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
const pollBody = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      {
        ack: member(fc.array(jti, { maxLength: 6 })),
        setErrs: member(fc.dictionary(jti, setErr, { maxKeys: 3 })),
        maxEvents: member(fc.oneof(fc.integer({ min: -3, max: 10 }), fc.constantFrom(0, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 1.5, -0, Number.MAX_VALUE))),
        returnImmediately: member(fc.boolean()),
        timeoutSecs: member(fc.oneof(fc.nat(100), fc.constantFrom(-1, 0.001, 1e308))),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Serialized, placeholders filled; some bodies get raw text JSON.stringify cannot write. */
const raw = fc.constantFrom(
  '',
  '{',
  '{"ack":["a"],"ack":{}}',
  '{"maxEvents":1e400}',
  '{"maxEvents":-1e400}',
  '{"ack":["\\ud800"]}',
  '{"ack":["a\\u0000"]}',
  '{"setErrs":{"__proto__":{"err":"x"}}}',
  '{"setErrs":{"constructor":{"err":"x"}}}',
  '[' .repeat(200) + ']'.repeat(200),
);

function expectPollShape(res: Awaited<ReturnType<TestApp['req']>>, pending: Set<string>, context: string) {
  const body = res.json() as { sets: Record<string, string>; moreAvailable: boolean };
  expect(typeof body.moreAvailable, context).toBe('boolean');
  for (const [j, set] of Object.entries(body.sets)) {
    expect(pending.has(j), `${context}: returned ${j}, which was not pending`).toBe(true);
    expect(set.split('.'), context).toHaveLength(3);
  }
}

describe('generated poll bodies', () => {
  it('never a 5xx; a refused poll acknowledges and dead-letters nothing', async () => {
    let baseline = await snapshot(t);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 6, arbitrary: pollBody.map((b) => JSON.stringify(b) ?? 'null') }, { weight: 1, arbitrary: raw }), async (text) => {
        if (++n % 20 === 0) {
          await makeEvents(3); // keep some SETs pending as valid polls acknowledge them
          baseline = await snapshot(t);
        }
        const jtis = await realJtis();
        const body = text.replace(/REAL(\d)/g, (_m, i: string) => jtis[Number(i)] ?? 'none');
        const { rows } = await t.database.pool.query<{ jti: string }>(`select jti from events where feed_id = $1 and state = 'pending'`, [streamId]);
        const pending = new Set(rows.map((r) => r.jti));
        const res = await t.req('POST', pollUrl, body, { headers: { 'content-type': 'application/json' } });
        const context = `poll ${body.slice(0, 300)}`;
        expectNo5xx(res, context);
        const after = await snapshot(t);
        if (res.statusCode >= 400) expect(after, context).toEqual(baseline);
        else expectPollShape(res, pending, context);
        baseline = after;
      }),
      fcParams(150, 3000),
    );
  });
});

describe('named hostile poll bodies', () => {
  it('a real jti in ack next to a malformed setErrs is not acknowledged', async () => {
    await makeEvents(1);
    const [real] = await realJtis();
    const before = await snapshot(t);
    const res = await t.req('POST', pollUrl, { ack: [real], setErrs: { [real!]: { err: 42 } }, returnImmediately: true }, { headers: { 'content-type': 'application/json' } });
    expectScimClientError(res, 'mixed');
    expect(res.statusCode).toBe(400);
    expect(await snapshot(t)).toEqual(before);
    const { rows } = await t.database.pool.query(`select state from events where jti = $1`, [real]);
    expect(rows[0].state).toBe('pending');
  });

  it('more than 10,000 acks is a 400 that names the bound', async () => {
    const before = await snapshot(t);
    const res = await t.req('POST', pollUrl, { ack: Array.from({ length: 10_001 }, (_, i) => `j${i}`), returnImmediately: true }, { headers: { 'content-type': 'application/json' } });
    expectScimClientError(res, 'acks');
    expect(res.json().detail).toMatch(/at most 10000/);
    expect(await snapshot(t)).toEqual(before);
  });

  it('another stream id, or none, is a 404 with nothing changed', async () => {
    const before = await snapshot(t);
    for (const url of ['/ssf/streams/f-nosuch/poll', `/ssf/streams/${streamId}x/poll`, '/ssf/streams/%20/poll']) {
      const res = await t.req('POST', url, { ack: [], returnImmediately: true }, { headers: { 'content-type': 'application/json' } });
      expectScimClientError(res, url);
      expect(res.statusCode).toBe(404);
    }
    expect(await snapshot(t)).toEqual(before);
  });
});
