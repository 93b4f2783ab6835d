import { describe, expect, it } from 'vitest';
import { verifySet } from '../../src/events/verify.js';
import { BASE_URL, useTestApp } from '../helpers/app.js';
import { specExample } from '../helpers/spec-examples.js';

/**
 * RFC 8936 §2.4 and §2.5 examples (spec-examples/rfc8936/*.json) replayed against a scimcast poll
 * stream (POST /ssf/streams/{id}/poll). The figures' jti values name SETs their transmitter had
 * sent; the replay substitutes the jtis of SETs scimcast delivered, in the same roles (the first
 * and second SET of a poll response).
 */

const CREATE_NOTICE = 'urn:ietf:params:scim:event:prov:create:notice';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const LONG_POLL_MS = 3000;

type Json = Record<string, unknown>;
interface RequestExample {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Json;
}
interface ResponseExample {
  status: number;
  headers: Record<string, string>;
  body: { sets: Record<string, string>; moreAvailable?: boolean };
}
interface Stream {
  stream_id: string;
  aud: string;
  delivery: { method: string; endpoint_url: string };
}

// The long-poll timeout is agreed out of band (§2.5); short here so the waits stay short.
const t = useTestApp({ SCIMCAST_POLL_TIMEOUT_MS: String(LONG_POLL_MS) });

const request = (file: string) => specExample<RequestExample>(`rfc8936/${file}`).example;
const response = (file: string) => specExample<ResponseExample>(`rfc8936/${file}`).example;
/** The two jti values the §2.4 figures use, in the roles of Figure 6: the first and second SET. */
const [RFC_JTI_1, RFC_JTI_2] = Object.keys(response('2.5-poll-response.json').body.sets) as [string, string];

async function newStream(): Promise<Stream> {
  const res = await t.req('POST', '/ssf/streams', { events_requested: [CREATE_NOTICE] }, { headers: { 'content-type': 'application/json' } });
  expect(res.statusCode, res.body).toBe(201);
  const s = res.json() as Stream;
  expect(s.delivery).toEqual({ method: 'urn:ietf:rfc:8936', endpoint_url: `${BASE_URL}/ssf/streams/${s.stream_id}/poll` });
  return s;
}

let users = 0;
/** Make `n` SETs for the stream (one create:notice per new user). */
async function makeSets(n: number) {
  for (let i = 0; i < n; i++) {
    const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `poll-${++users}` });
    expect(res.statusCode).toBe(201);
  }
}

/** Send a figure's body (with the RFC jtis replaced) to the stream's own poll endpoint. */
async function poll(stream: Stream, ex: RequestExample, jtis: ReadonlyMap<string, string> = new Map(), headers: Record<string, string> = {}) {
  const body = JSON.parse(JSON.stringify(ex.body), (_k, v: unknown) => (typeof v === 'string' ? (jtis.get(v) ?? v) : v)) as Json;
  if (body.setErrs) body.setErrs = Object.fromEntries(Object.entries(body.setErrs as Json).map(([k, v]) => [jtis.get(k) ?? k, v]));
  const started = Date.now();
  const res = await t.req(ex.method, new URL(stream.delivery.endpoint_url).pathname, body, { headers: { 'content-type': ex.headers['Content-Type']!, ...headers } });
  return { res, body: res.json() as ResponseExample['body'], elapsed: Date.now() - started };
}

/** Verify every SET of a response and check that each key is the SET's own jti (§2.3). */
async function verified(stream: Stream, sets: Record<string, string>) {
  const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
  const claims = [];
  for (const [jti, jws] of Object.entries(sets)) {
    expect(jws).toMatch(COMPACT_JWS);
    const c = await verifySet(jws, { jwks, issuer: BASE_URL, audience: stream.aud });
    expect(c.jti).toBe(jti);
    claims.push(c);
  }
  return claims;
}

/** Poll once immediately (Figure 1) and map the figures' two jtis to the first two SETs returned. */
async function firstTwo(stream: Stream) {
  const { body } = await poll(stream, request('2.4.1-poll-only-request.json'));
  const jtis = Object.keys(body.sets);
  expect(jtis.length).toBeGreaterThanOrEqual(2);
  return new Map([
    [RFC_JTI_1, jtis[0]!],
    [RFC_JTI_2, jtis[1]!],
  ]);
}

describe('RFC 8936 §2.4.1 poll-only requests', () => {
  it('2.4.1-poll-only-request.json: returnImmediately true returns the pending SETs at once as 2.5-poll-response.json does: 200, application/json, {"sets": {jti: SET}}', async () => {
    const stream = await newStream();
    await makeSets(2);
    const { res, body, elapsed } = await poll(stream, request('2.4.1-poll-only-request.json'));
    const rfc = response('2.5-poll-response.json');
    expect(res.statusCode).toBe(rfc.status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(elapsed).toBeLessThan(LONG_POLL_MS);
    expect(Object.keys(body).sort()).toEqual(['moreAvailable', 'sets']); // moreAvailable (§2.3)
    expect(body.moreAvailable).toBe(false);
    expect(Object.keys(body.sets)).toHaveLength(Object.keys(rfc.body.sets).length);
    const claims = await verified(stream, body.sets);
    expect(claims.map((c) => Object.keys(c.events))).toEqual([[CREATE_NOTICE], [CREATE_NOTICE]]);
  });

  it('2.5-poll-response.json: the figure itself has the shape the replay checks: each key is the jti inside its SET', () => {
    // Guards the example file: the figure's SETs are unsecured JWTs (alg none), so no signature.
    for (const [jti, jws] of Object.entries(response('2.5-poll-response.json').body.sets)) {
      const [header, payload, signature] = jws.split('.');
      expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'none' });
      expect(JSON.parse(Buffer.from(payload!, 'base64url').toString()).jti).toBe(jti);
      expect(signature).toBe('');
    }
  });

  it('2.4.1-default-poll-request.json: {} long-polls: pending SETs come back at once, and with none pending it waits, then answers 2.5-empty-poll-response.json', async () => {
    const stream = await newStream();
    await makeSets(1);
    const pending = await poll(stream, request('2.4.1-default-poll-request.json'));
    expect(pending.res.statusCode).toBe(200);
    expect(pending.elapsed).toBeLessThan(LONG_POLL_MS);
    await verified(stream, pending.body.sets);
    expect(Object.keys(pending.body.sets)).toHaveLength(1);

    // Acknowledge it, then poll with nothing pending: the long poll runs to its timeout (§2.5).
    await poll(stream, request('2.4.2-acknowledge-only-request.json'), new Map([[RFC_JTI_1, Object.keys(pending.body.sets)[0]!]]));
    const empty = await poll(stream, request('2.4.1-default-poll-request.json'));
    const rfc = response('2.5-empty-poll-response.json');
    expect(empty.res.statusCode).toBe(rfc.status);
    expect(empty.elapsed).toBeGreaterThanOrEqual(LONG_POLL_MS - 200);
    expect(empty.body).toMatchObject(rfc.body);
    expect(empty.body.sets).toEqual({});
  });
});

describe('RFC 8936 §2.4.2 acknowledge-only request', () => {
  it('2.4.2-acknowledge-only-request.json: maxEvents 0 acknowledges both SETs and returns none; they are never sent again', async () => {
    const stream = await newStream();
    await makeSets(3);
    const jtis = await firstTwo(stream);
    const { res, body, elapsed } = await poll(stream, request('2.4.2-acknowledge-only-request.json'), jtis);
    expect(res.statusCode).toBe(200);
    expect(body.sets).toEqual({});
    expect(elapsed).toBeLessThan(LONG_POLL_MS); // returnImmediately true
    const after = await poll(stream, request('2.4.1-poll-only-request.json'));
    const left = Object.keys(after.body.sets);
    expect(left).toHaveLength(1);
    for (const acked of jtis.values()) expect(left).not.toContain(acked);
  });
});

describe('RFC 8936 §2.4.3 poll with acknowledgement', () => {
  it('2.4.3-poll-with-ack-request.json: acknowledges two SETs and, in the same request, returns the next one without waiting', async () => {
    const stream = await newStream();
    await makeSets(3);
    const jtis = await firstTwo(stream);
    const { res, body, elapsed } = await poll(stream, request('2.4.3-poll-with-ack-request.json'), jtis);
    expect(res.statusCode).toBe(200);
    expect(elapsed).toBeLessThan(LONG_POLL_MS); // a SET is pending, so the long poll answers at once
    const returned = Object.keys(body.sets);
    expect(returned).toHaveLength(1);
    for (const acked of jtis.values()) expect(returned).not.toContain(acked);
    await verified(stream, body.sets);
  });

  it('2.4.3-poll-with-ack-request.json: with nothing else pending it "wait[s] until the next SET is available"', async () => {
    const stream = await newStream();
    await makeSets(2);
    const jtis = await firstTwo(stream);
    const waiting = poll(stream, request('2.4.3-poll-with-ack-request.json'), jtis);
    await new Promise((r) => setTimeout(r, 300));
    await makeSets(1);
    const { body, elapsed } = await waiting;
    expect(elapsed).toBeLessThan(LONG_POLL_MS); // woken by the new SET, not by the timeout
    const returned = Object.keys(body.sets);
    expect(returned).toHaveLength(1);
    for (const acked of jtis.values()) expect(returned).not.toContain(acked);
  });
});

describe('RFC 8936 §2.4.4 poll with acknowledgement and errors', () => {
  it('2.4.4-poll-with-ack-and-errors-request.json: the acknowledged SET and the one reported in setErrs are both done; the error is kept', async () => {
    const stream = await newStream();
    await makeSets(2);
    const jtis = await firstTwo(stream);
    const { res, body } = await poll(stream, request('2.4.4-poll-with-ack-and-errors-request.json'), jtis, { 'content-language': 'en' });
    expect(res.statusCode).toBe(200);
    expect(body.sets).toEqual({}); // nothing else was pending
    const rfcErr = request('2.4.4-poll-with-ack-and-errors-request.json').body.setErrs as Record<string, { err: string; description: string }>;
    const { err, description } = rfcErr[RFC_JTI_1]!;
    // RFC 8936 leaves open what setErrs means for redelivery; scimcast treats it as final: the SET
    // is not redelivered, it goes to the dead letter with the error.
    const dead = await t.deps.storage.events.dead(stream.stream_id, 10);
    expect(dead).toMatchObject([{ jti: jtis.get(RFC_JTI_1), errCode: err, errDescription: description }]);
    // Figure 7: nothing new or unacknowledged is left.
    const empty = await poll(stream, request('2.4.1-poll-only-request.json'));
    expect(empty.body).toMatchObject(response('2.5-empty-poll-response.json').body);
  });
});
