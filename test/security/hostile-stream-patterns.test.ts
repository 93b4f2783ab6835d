import type { JSONWebKeySet } from 'jose';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySet } from '../../src/events/verify.js';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { ERROR_URN, snapshot, USER } from './support.js';

/**
 * `*` patterns in events_requested are receiver input. A pattern turned into a backtracking
 * regular expression (`*******Z` took 1.5 s, 7 times more per extra `*`) held the event loop, and
 * with it every other request of the process. Over real HTTP: a stream with pathological patterns
 * is created at once, /healthz keeps answering meanwhile, and the stream gets exactly the events
 * its sensible pattern names.
 */
const EV = 'urn:ietf:params:scim:event:';
const JSON_CT = { 'content-type': 'application/json' };

let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await startTestApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t?.close();
});

const http = (method: string, path: string, body?: unknown, auth: string | null = t.token) =>
  fetch(`${base}${path}`, {
    method,
    headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...(body === undefined ? {} : JSON_CT) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('pathological events_requested patterns', () => {
  it('a stream with them is created at once, /healthz keeps answering meanwhile, and the stream matches the right events', async () => {
    const requested = [
      // `*******Z` with one `*` more: about 12 s of one core as a regex (test/unit/feeds/wildcard.test.ts
      // has longer ones, which a regex would never finish).
      `${'*'.repeat(8)}Z`,
      `${'*a'.repeat(255)}Z`, // 511 characters, within the bound
      'URN:IETF:params:scim:event:PROV:*:notice', // the one that matches: case-insensitive as before
    ];
    // /healthz probed back to back while the stream is created: the longest wait between two
    // answers is how long the event loop was held.
    let creating = true;
    const answeredAt: number[] = [performance.now()];
    const probes = (async () => {
      while (creating) {
        const res = await http('GET', '/healthz', undefined, null);
        expect(res.status).toBe(200);
        answeredAt.push(performance.now());
      }
    })();
    const started = performance.now();
    const res = await http('POST', '/ssf/streams', { events_requested: requested });
    const took = performance.now() - started;
    creating = false;
    await probes;
    expect(res.status).toBe(201);
    const stream = (await res.json()) as { stream_id: string; aud: string; events_requested: string[]; events_delivered: string[] };
    const longestGap = Math.max(...answeredAt.slice(1).map((at, i) => at - answeredAt[i]!));
    // Generous bounds for a loaded machine.
    expect(took).toBeLessThan(3_000);
    expect(longestGap).toBeLessThan(3_000);
    expect(stream.events_requested).toEqual(requested); // stored as given
    expect(stream.events_delivered).toEqual([`${EV}prov:create:notice`, `${EV}prov:patch:notice`, `${EV}prov:put:notice`]);

    // A user created now reaches the stream as prov:create:notice, and nothing else does.
    expect((await http('POST', '/scim/v2/Users', { schemas: [USER], userName: 'pattern-user' })).status).toBe(201);
    await t.settle(); // its SET is signed after the commit
    const poll = (await (await http('POST', `/ssf/streams/${stream.stream_id}/poll`, { returnImmediately: true })).json()) as { sets: Record<string, string> };
    const jwks = (await (await http('GET', '/jwks.json', undefined, null)).json()) as JSONWebKeySet;
    const claims = await Promise.all(Object.values(poll.sets).map((jws) => verifySet(jws, { jwks, issuer: BASE_URL, audience: stream.aud })));
    expect(claims.map((c) => Object.keys(c.events))).toEqual([[`${EV}prov:create:notice`]]);
  });

  it('a pattern over the length bound, or a list over the entry bound, is a 400 naming the bound, and nothing is created', async () => {
    const before = await snapshot(t);
    const tooLong = await http('POST', '/ssf/streams', { events_requested: [`${'*'.repeat(513)}`] });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toEqual({
      schemas: [ERROR_URN],
      status: '400',
      scimType: 'invalidValue',
      detail: 'stream configuration: events_requested.0: an event URI or pattern has at most 512 characters',
    });
    const tooMany = await http('POST', '/ssf/streams', { events_requested: Array.from({ length: 101 }, (_, i) => `${EV}prov:*${i}`) });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({ status: '400', scimType: 'invalidValue', detail: 'stream configuration: events_requested: at most 100 entries' });
    expect(await snapshot(t)).toEqual(before);
  });
});
