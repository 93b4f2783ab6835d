import { beforeAll, describe, expect, it } from 'vitest';
import type { SetClaims } from '../../src/events/claims.js';
import { verifySet } from '../../src/events/verify.js';
import { BASE_URL, useTestApp } from '../helpers/app.js';
import { specExample } from '../helpers/spec-examples.js';

/**
 * RFC 9967 examples (spec-examples/rfc9967/*.json; text of draft-ietf-scim-events-16) replayed
 * against the real app with a worker. Each SET is fetched from an SSF poll stream and verified
 * against /jwks.json (signature, typ secevent+jwt, iss, aud) before its claims are compared with
 * the figure. Server-assigned values (iss host, aud, jti, iat, txn, ids, versions) are compared by
 * shape or mapped to what the server returned. The SET claims are those of RFC 8417 §2.2 and
 * RFC 9967 §2.1–§2.2.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const EV = 'urn:ietf:params:scim:event:';
const ASYNCRESP = `${EV}misc:asyncresp`;
const SCIM = `${BASE_URL}/scim/v2`;
const WEAK_ETAG = /^W\/"[^"]+"$/;

type Json = Record<string, unknown>;
type SetExample = { jti: string; txn?: string; iat: number; iss: string; aud: string[]; sub_id: Json & { uri: string }; events: Record<string, Json> };
type Claims = SetClaims & { [k: string]: unknown };
interface Stream {
  stream_id: string;
  aud: string;
}

const t = useTestApp({}, { worker: true });

const fig = (file: string) => specExample<SetExample>(`rfc9967/${file}`).example;
/** The one event URI of a figure, and its payload. */
const eventOf = (ex: { events: Record<string, Json> }) => Object.entries(ex.events)[0]!;

async function newStream(events: string[], extra: Json = {}): Promise<Stream> {
  const res = await t.req('POST', '/ssf/streams', { events_requested: events, ...extra }, { headers: { 'content-type': 'application/json' } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/**
 * Poll the stream once (RFC 8936), verify every SET against the published keys with the stream's
 * issuer and audience, acknowledge them, and return their claims oldest first.
 */
async function take(stream: Stream): Promise<Claims[]> {
  const res = await t.req('POST', `/ssf/streams/${stream.stream_id}/poll`, { returnImmediately: true }, { headers: { 'content-type': 'application/json' } });
  expect(res.statusCode, res.body).toBe(200);
  const sets = res.json().sets as Record<string, string>;
  const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
  const claims: Claims[] = [];
  for (const [jti, jws] of Object.entries(sets)) {
    const c = (await verifySet(jws, { jwks, issuer: BASE_URL, audience: stream.aud })) as Claims;
    expect(c.jti).toBe(jti);
    claims.push(c);
  }
  if (claims.length > 0) {
    await t.req('POST', `/ssf/streams/${stream.stream_id}/poll`, { ack: Object.keys(sets), maxEvents: 0, returnImmediately: true }, { headers: { 'content-type': 'application/json' } });
  }
  return claims;
}

/**
 * The claims every figure shows, adapted: iss is our issuer (the figures' is scim.example.com),
 * aud is the one stream the SET was made for (the figures list feeds of their server), jti and
 * iat are the server's, and there is exactly the figure's one event (RFC 8417 §2.2; a top-level
 * sub_id and no sub, RFC 9967 §2.1). `sub_id` is compared with the figure's, mapped to our resource.
 */
function expectEnvelope(c: Claims, ex: SetExample, stream: Stream, subId: Json) {
  expect(c.iss).toBe(BASE_URL);
  expect(c.aud).toEqual([stream.aud]);
  expect(typeof c.jti).toBe('string');
  expect(Number.isInteger(c.iat)).toBe(true);
  expect(Math.abs(c.iat - Date.now() / 1000)).toBeLessThan(120);
  if (ex.txn !== undefined) expect(typeof c.txn).toBe('string');
  expect(c).not.toHaveProperty('sub'); // RFC 9967 §2.1
  expect(c).not.toHaveProperty('exp'); // RFC 8417 §2.2: exp is not recommended
  expect(Object.keys(c.events)).toEqual(Object.keys(ex.events));
  expect(c.sub_id).toMatchObject({ ...ex.sub_id, ...subId });
}

async function createUser(body: Json) {
  const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as Json & { id: string; meta: { version: string; location: string } };
}

/** Delete the user with this userName, if any (figures reuse userNames such as "jdoe"). */
async function deleteUserNamed(userName: string) {
  const filter = encodeURIComponent(`userName eq "${userName}"`);
  const found = (await t.req('GET', `/scim/v2/Users?filter=${filter}`)).json() as { Resources?: { id: string }[] };
  for (const old of found.Resources ?? []) await t.req('DELETE', `/scim/v2/Users/${old.id}`);
}

const etagOf = async (path: string) => (await t.req('GET', path)).headers.etag as string;

async function waitForCompletion(location: string) {
  const path = new URL(location).pathname;
  for (let i = 0; i < 200; i++) {
    const res = await t.req('GET', path);
    if (res.json().status === 'completed') return res.json();
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`async request ${location} did not complete`);
}

describe('RFC 9967 §2.3 feed events', () => {
  /** Add a user with externalId "jdoe" to a NONE stream, then remove it: Figures 2 and 3. */
  async function addThenRemove() {
    const add = fig('2.3.1-feed-add.json');
    const remove = fig('2.3.2-feed-remove.json');
    const stream = await newStream([eventOf(add)[0], eventOf(remove)[0]], { default_subjects: 'NONE' });
    const user = await createUser({ userName: `feed-${Math.random().toString(36).slice(2)}`, externalId: add.sub_id.externalId });
    const subject = { format: 'scim', uri: `/Users/${user.id}` };
    expect((await t.req('POST', '/ssf/subjects/add', { stream_id: stream.stream_id, subject })).statusCode).toBe(200);
    const added = await take(stream);
    expect((await t.req('POST', '/ssf/subjects/remove', { stream_id: stream.stream_id, subject })).statusCode).toBe(204);
    const removed = await take(stream);
    expect(added).toHaveLength(1);
    expect(removed).toHaveLength(1);
    return { add, remove, stream, subject, added: added[0]!, removed: removed[0]! };
  }

  it('2.3.1-feed-add.json and 2.3.2-feed-remove.json: adding and removing a subject give feed:add and feed:remove with empty payloads', async () => {
    const { add, remove, stream, subject, added, removed } = await addThenRemove();
    const { externalId: _a, ...addSubject } = add.sub_id;
    const { externalId: _r, ...removeSubject } = remove.sub_id;
    expectEnvelope(added, { ...add, sub_id: addSubject }, stream, { uri: subject.uri });
    expect(added.events).toEqual(add.events);
    expectEnvelope(removed, { ...remove, sub_id: removeSubject }, stream, { uri: subject.uri });
    expect(removed.events).toEqual(remove.events);
    expect(added.txn).not.toBe(removed.txn);
  });

  // BUG (src/feeds/streams.ts changeSubject): feed:add / feed:remove build sub_id from the subject
  // URI alone (scimSubId(uri, id)), so the resource's externalId is missing. Figures 2 and 3 show
  // sub_id.externalId "jdoe" for a user whose externalId is "jdoe" (RFC 9967 §2.1 externalId "If
  // known"; scimcast knows it), and the README documents sub_id as {format, uri, id, externalId},
  // which the prov:* SETs for the same user do carry.
  it('2.3.1-feed-add.json and 2.3.2-feed-remove.json: sub_id carries the externalId "jdoe", as Figures 2 and 3 show', async () => {
    const { add, remove, subject, added, removed } = await addThenRemove();
    expect(added.sub_id).toMatchObject({ ...add.sub_id, uri: subject.uri });
    expect(removed.sub_id).toMatchObject({ ...remove.sub_id, uri: subject.uri });
  });
});

describe('RFC 9967 §2.4 provisioning events', () => {
  it('2.4.1-create-full.json: create:full carries data, the final representation with the assigned id', async () => {
    const ex = fig('2.4.1-create-full.json');
    const [uri, payload] = eventOf(ex);
    const data = payload.data as Json;
    const stream = await newStream([uri]);
    // The figure's data, plus the externalId its sub_id shows (see the example's note).
    const user = await createUser({ ...data, externalId: ex.sub_id.externalId });
    const [c, ...more] = await take(stream);
    expect(more).toEqual([]);
    expectEnvelope(c!, ex, stream, { uri: `/Users/${user.id}` });
    const ours = c!.events[uri]!;
    expect(ours).not.toHaveProperty('attributes'); // exactly one of data or attributes (RFC 9967 §2.2)
    expect(ours.data).toMatchObject(data);
    expect(ours.data).toMatchObject({ id: user.id }); // §2.2: "including the assigned id"
    expect(ours.data).toEqual(user); // the final representation, as the POST returned it
    expect(ours.version).toBe(user.meta.version); // the ETag, RFC 9967 §2.2 (not in the figure)
  });

  /** The create:notice replay: the user of Figure 4 with a password, as Figure 5's list implies. */
  async function createNotice() {
    const ex = fig('2.4.1-create-notice.json');
    const [uri] = eventOf(ex);
    const stream = await newStream([uri]);
    const data = eventOf(fig('2.4.1-create-full.json'))[1].data as Json;
    const user = await createUser({ ...data, userName: `jdoe-notice-${Math.random().toString(36).slice(2)}`, externalId: ex.sub_id.externalId, password: 't1meMach1ne' });
    const [c, ...more] = await take(stream);
    expect(more).toEqual([]);
    return { ex, uri, stream, user, c: c! };
  }

  it('2.4.1-create-notice.json: create:notice carries attributes, not data, naming the attributes the figure lists that are returned', async () => {
    const { ex, uri, stream, user, c } = await createNotice();
    expectEnvelope(c, ex, stream, { uri: `/Users/${user.id}` });
    const ours = c.events[uri]!;
    expect(ours).not.toHaveProperty('data');
    expect(ours.attributes).toEqual(expect.arrayContaining(['name', 'userName', 'emails']));
  });

  // BUG (src/provisioning/write.ts changedAttributes): notice `attributes` are computed from the
  // returned representation minus id/meta/schemas, so "id" (assigned by the create) and
  // "password" (never returned) are never listed. RFC 9967 §2.4 says notice mode lists "the set of
  // attributes created or modified in the request", and Figure 5 lists ["id", "name", "userName",
  // "password", "emails"] for a create that set a password. The same rule hides a password change
  // from put:notice receivers.
  it('2.4.1-create-notice.json: the attribute list also names "id" and "password", as Figure 5 does', async () => {
    const { ex, uri, c } = await createNotice();
    expect(c.events[uri]!.attributes).toEqual(expect.arrayContaining(eventOf(ex)[1].attributes as string[]));
  });

  describe('§2.4.2 patch (PATCH is being implemented; these replays depend on it)', () => {
    /** Figure 6's PatchOp with Babs Jensen's real id, on a group with externalId "crmUsers". */
    async function patchGroup(uris: string[]) {
      const full = fig('2.4.2-patch-full.json');
      const stream = await newStream(uris);
      const group = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'CRM Users', externalId: full.sub_id.externalId })).json();
      const babs = await createUser({ userName: `bjensen-patch-${uris.join()}`, displayName: 'Babs Jensen' });
      const op = JSON.parse(JSON.stringify(eventOf(full)[1].data)) as { Operations: { value: Json[] }[] };
      op.Operations[0]!.value[0]!.value = babs.id;
      op.Operations[0]!.value[0]!.$ref = `/Users/${babs.id}`;
      const res = await t.req('PATCH', `/scim/v2/Groups/${group.id}`, op);
      expect([200, 204], res.body).toContain(res.statusCode);
      const version = await etagOf(`/scim/v2/Groups/${group.id}`);
      return { stream, group, babs, op, version, claims: await take(stream) };
    }

    it('2.4.2-patch-full.json: patch:full carries the PatchOp message as data, with the new version', async () => {
      const ex = fig('2.4.2-patch-full.json');
      const [uri] = eventOf(ex);
      const { stream, group, babs, op, version, claims } = await patchGroup([uri]);
      expect(claims).toHaveLength(1);
      expectEnvelope(claims[0]!, ex, stream, { uri: `/Groups/${group.id}` });
      // The PatchOp as sent; the figure's version is a bare token, ours the ETag header value.
      expect(claims[0]!.events[uri]).toEqual({ version, data: op });
      expect(version).toMatch(WEAK_ETAG);
      const members = (await t.req('GET', `/scim/v2/Groups/${group.id}`)).json().members;
      expect(members.map((m: { value: string }) => m.value)).toEqual([babs.id]);
    });

    it('2.4.2-patch-notice.json: patch:notice lists ["members"] with the new version', async () => {
      const ex = fig('2.4.2-patch-notice.json');
      const [uri, payload] = eventOf(ex);
      const { stream, group, version, claims } = await patchGroup([uri]);
      expect(claims).toHaveLength(1);
      expectEnvelope(claims[0]!, ex, stream, { uri: `/Groups/${group.id}` });
      expect(claims[0]!.events[uri]).toEqual({ ...payload, version });
    });
  });

  it('2.4.3-put-full.json and 2.4.3-put-notice.json: put:full carries the final representation; put:notice lists the five replaced attributes', async () => {
    const full = fig('2.4.3-put-full.json');
    const notice = fig('2.4.3-put-notice.json');
    const [fullUri, fullPayload] = eventOf(full);
    const [noticeUri, noticePayload] = eventOf(notice);
    const stream = await newStream([fullUri, noticeUri]);
    await deleteUserNamed((fullPayload.data as Json).userName as string);
    // Different values first for every attribute the PUT sets, so each one is modified by it.
    const user = await createUser({
      userName: 'jdoe.before',
      externalId: 'jdoe.before',
      name: { givenName: 'Jonathan' },
      roles: [{ value: 'crm-user' }],
      emails: [{ value: 'before@example.com' }],
    });
    const data = fullPayload.data as Json;
    const put = await t.req('PUT', `/scim/v2/Users/${user.id}`, data);
    expect(put.statusCode, put.body).toBe(200);
    const claims = await take(stream);
    expect(claims.map((c) => Object.keys(c.events)[0])).toEqual([fullUri, noticeUri]);
    const [f, n] = claims as [Claims, Claims];
    expectEnvelope(f, full, stream, { uri: `/Users/${user.id}` });
    expectEnvelope(n, notice, stream, { uri: `/Users/${user.id}` });
    expect(f.txn).toBe(n.txn); // one request, one txn (RFC 9967 §2.2)

    const ours = f.events[fullUri]!;
    // The final representation (RFC 9967 §2.4), a superset of the PUT body; "roles": [] is unassigned
    // (RFC 7643 §2.5), so it is absent from the representation.
    const { roles, ...sentButRoles } = data;
    expect(roles).toEqual([]);
    expect(ours.data).toMatchObject(sentButRoles);
    expect(ours.data).not.toHaveProperty('roles');
    expect(ours.data).toEqual(put.json());
    expect(ours.version).toBe(put.headers.etag);

    const nOurs = n.events[noticeUri]!;
    expect(nOurs).not.toHaveProperty('data');
    expect(nOurs.version).toBe(put.headers.etag);
    expect([...(nOurs.attributes as string[])].sort()).toEqual([...(noticePayload.attributes as string[])].sort());
  });

  it('2.4.4-delete.json: prov:delete has an empty payload and no feed:remove goes with it (RFC 9967 §2.4.4)', async () => {
    const ex = fig('2.4.4-delete.json');
    const [uri, payload] = eventOf(ex);
    const stream = await newStream([uri, `${EV}feed:remove`]);
    const user = await createUser({ userName: 'jdoe-delete', externalId: ex.sub_id.externalId });
    expect((await t.req('DELETE', `/scim/v2/Users/${user.id}`)).statusCode).toBe(204);
    const claims = await take(stream);
    expect(claims).toHaveLength(1);
    expectEnvelope(claims[0]!, ex, stream, { uri: `/Users/${user.id}` });
    expect(claims[0]!.events).toEqual({ [uri]: payload });
  });

  it('2.4.5-activate.json: prov:activate, with an empty payload, when active becomes true; prov:deactivate (§2.4.6, no figure) when it becomes false', async () => {
    const ex = fig('2.4.5-activate.json');
    const [uri, payload] = eventOf(ex);
    const deactivate = `${EV}prov:deactivate`;
    const stream = await newStream([uri, deactivate]);
    const user = await createUser({ userName: 'jdoe-activate', active: false });
    await t.req('PUT', `/scim/v2/Users/${user.id}`, { schemas: [USER], userName: 'jdoe-activate', active: true });
    const [activated, ...more] = await take(stream);
    expect(more).toEqual([]);
    expectEnvelope(activated!, ex, stream, { uri: `/Users/${user.id}` });
    expect(activated!.events).toEqual({ [uri]: payload });

    await t.req('PUT', `/scim/v2/Users/${user.id}`, { schemas: [USER], userName: 'jdoe-activate', active: false });
    const [deactivated, ...rest] = await take(stream);
    expect(rest).toEqual([]);
    expect(deactivated!.events).toEqual({ [deactivate]: {} });
    expect(deactivated!.sub_id).toMatchObject({ format: 'scim', uri: `/Users/${user.id}` });
  });
});

describe('RFC 9967 §2.5 asynchronous requests', () => {
  let feed: Stream;
  beforeAll(async () => {
    feed = await newStream([ASYNCRESP]);
  });

  interface AsyncExample {
    request: { method: string; path: string; headers: Record<string, string>; body: Json };
    response: { status: number; headers: Record<string, string>; body: string };
  }
  const exchange = () => specExample<AsyncExample>('rfc9967/2.5.1.1-async-request.json').example;

  /** Figure 12's request, addressed to a user the test creates. */
  async function sendFigure12(body?: unknown) {
    const ex = exchange();
    await deleteUserNamed(ex.request.body.userName as string); // each replay starts from a fresh bjensen
    const user = await createUser({ userName: ex.request.body.userName as string });
    const rfcId = ex.request.path.split('/').pop()!;
    const sent = body ?? { ...ex.request.body, id: user.id };
    const res = await t.req(ex.request.method, `/scim/v2${ex.request.path.replace(rfcId, user.id)}`, sent, { headers: { prefer: ex.request.headers.Prefer! } });
    return { ex, user, res };
  }

  it('2.5.1.1-async-request.json: Figure 12 is answered as Figure 13: 202, no body, Set-Txn, Preference-Applied and a Location (§2.5.1.1, §3)', async () => {
    const { ex, user, res } = await sendFigure12();
    expect(res.statusCode).toBe(ex.response.status);
    expect(res.body).toBe(ex.response.body); // no body (§2.5.1.1)
    const txn = res.headers['set-txn'] as string;
    expect(txn).toMatch(/^[0-9a-f]{32}$/); // the figure's Set-Txn has this shape; unique (§3)
    expect(res.headers['preference-applied']).toBe(ex.response.headers['Preference-Applied']);
    // §2.5.1.1: a Location where the completion SET can be fetched (the figure uses the resource's).
    expect(res.headers.location).toBe(`${SCIM}/AsyncRequests/${txn}`);
    const done = await waitForCompletion(res.headers.location as string);
    expect(done.operations[0]).toMatchObject({ method: 'PUT', status: '200' });
    expect((await t.req('GET', `/scim/v2/Users/${user.id}`)).json()).toMatchObject({ externalId: 'bjensen', name: { formatted: 'Ms. Barbara J Jensen III' } });
    const set = await t.req('GET', new URL(res.headers.location as string).pathname, undefined, { headers: { accept: 'application/secevent+jwt' } });
    expect(set.statusCode).toBe(200);
    expect(set.headers['content-type']).toMatch(/^application\/secevent\+jwt/);
    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    expect((await verifySet(set.body, { jwks, issuer: BASE_URL })).txn).toBe(txn);
    await take(feed); // leave the feed empty for the next example
  });

  it('2.5.1.3-asyncresp.json: the completion SET of Figure 12 is Figure 14: txn = Set-Txn, method PUT, the new version, status "200" (§2.5.1.3)', async () => {
    await take(feed);
    const ex = fig('2.5.1.3-asyncresp.json');
    const [uri, payload] = eventOf(ex);
    const { user, res } = await sendFigure12();
    expect(res.statusCode).toBe(202);
    await waitForCompletion(res.headers.location as string);
    const version = await etagOf(`/scim/v2/Users/${user.id}`);
    const mine = (await take(feed)).filter((c) => c.txn === res.headers['set-txn']);
    expect(mine).toHaveLength(1);
    expectEnvelope(mine[0]!, ex, feed, { uri: `/Users/${user.id}` });
    // scimcast adds location, as an RFC 7644 §3.7.3 bulk response operation has it.
    expect(mine[0]!.events[uri]).toEqual({ ...payload, version, location: `${SCIM}/Users/${user.id}` });
    expect(version).toMatch(WEAK_ETAG);
  });

  it('2.5.1.3-asyncresp-error.json: a PUT that fails after the 202 completes as Figure 15: status "400" and the RFC 7644 §3.12 error as response (§2.5.1.3)', async () => {
    await take(feed);
    const ex = fig('2.5.1.3-asyncresp-error.json');
    const [uri, payload] = eventOf(ex);
    // JSON that parses but is not a SCIM resource: admitted (only what can be refused before any
    // work is queued is answered at once), then refused by the worker.
    const { user, res } = await sendFigure12([]);
    expect(res.statusCode, res.body).toBe(202);
    await waitForCompletion(res.headers.location as string);
    const mine = (await take(feed)).filter((c) => c.txn === res.headers['set-txn']);
    expect(mine).toHaveLength(1);
    expectEnvelope(mine[0]!, ex, feed, { uri: `/Users/${user.id}` });
    const ours = mine[0]!.events[uri]!;
    const { version: _unchanged, response, ...rest } = payload;
    // The figure also repeats a version; nothing changed, and scimcast leaves version out.
    expect(ours).toMatchObject(rest);
    expect(ours.response).toEqual({ ...(response as Json), schemas: [ERROR], detail: expect.any(String) });
  });

  describe('2.5.1.3-asyncresp-bulk.json: the RFC 7644 §3.7.3 bulk request sent with Prefer: respond-async (Figures 16-19)', () => {
    const figs = specExample<SetExample[]>('rfc9967/2.5.1.3-asyncresp-bulk.json').example;
    const bulk = specExample<{ request: { body: { Operations: { method: string; path: string; version?: string; data?: Json }[] } & Json } }>(
      'rfc7644/3.7.3-bulk-request-response.json',
    ).example;
    let txn: string;
    let claims: Claims[];
    /** The users the PUT, PATCH and DELETE address, by operation index; the POST's by its result. */
    const targets = new Map<number, string>();

    beforeAll(async () => {
      await take(feed);
      const body = JSON.parse(JSON.stringify(bulk.request.body)) as typeof bulk.request.body;
      body.Operations[0]!.data!.schemas = [USER]; // the RFC's typo (see that example's note)
      for (const [i, extra] of [[1, { userName: 'Bob' }], [2, { userName: 'dave.async', nickName: 'Davey' }], [3, { userName: 'eve.async' }]] as const) {
        const u = await createUser({ ...extra, userName: extra.userName });
        const op = body.Operations[i]!;
        const rfcId = op.path.split('/').pop()!;
        op.path = op.path.replace(rfcId, u.id);
        op.version = u.meta.version;
        if (op.data?.id) op.data.id = u.id;
        targets.set(i, u.id);
      }
      const res = await t.req('POST', '/scim/v2/Bulk', body, { headers: { prefer: 'respond-async' } });
      expect(res.statusCode, res.body).toBe(202);
      expect(res.body).toBe('');
      expect(res.headers['preference-applied']).toBe('respond-async');
      txn = res.headers['set-txn'] as string;
      const done = await waitForCompletion(res.headers.location as string);
      const created = done.operations.find((o: { index: number }) => o.index === 0);
      if (created?.location) targets.set(0, created.location.split('/').pop());
      claims = (await take(feed)).filter((c) => c.txn.startsWith(`${txn}:`));
    });

    it('one asyncresp per requested operation, txn "<Set-Txn>:<zero-based index>" (§2.5.1.2; the figures print :1..:4, the text says zero-based)', () => {
      expect(claims.map((c) => c.txn).sort()).toEqual(figs.map((_, i) => `${txn}:${i}`));
      for (const c of claims) expect(Object.keys(c.events)).toEqual([ASYNCRESP]);
    });

    /** Figure 16 + i, against the SET for operation i. */
    async function expectFigure(i: number) {
      const ex = figs[i]!;
      const c = claims.find((x) => x.txn === `${txn}:${i}`);
      expect(c, `no SET for operation ${i}`).toBeDefined();
      const id = targets.get(i)!;
      expectEnvelope(c!, ex, feed, { uri: `/Users/${id}` });
      const [, payload] = eventOf(ex);
      const expected: Json = { ...payload, location: `${SCIM}/Users/${id}` }; // location, as in an RFC 7644 §3.7.3 response operation
      if (payload.version) expected.version = await etagOf(`/scim/v2/Users/${id}`);
      expect(c!.events[ASYNCRESP]).toEqual(expected);
    }

    it('Figure 16: the POST: bulkId "qwerty", version, status "201"', () => expectFigure(0));
    it('Figure 17: the PUT: version, status "200"', () => expectFigure(1));
    it('Figure 18: the PATCH: version, status "200" (depends on PATCH, being implemented)', () => expectFigure(2));

    it('Figure 19: the DELETE: status "204"', async () => {
      const c = claims.find((x) => x.txn === `${txn}:3`)!;
      const { version: _v, ...ours } = c.events[ASYNCRESP]!;
      expect(ours).toEqual({ ...eventOf(figs[3]!)[1], location: `${SCIM}/Users/${targets.get(3)}` });
      expectEnvelope(c, figs[3]!, feed, { uri: `/Users/${targets.get(3)}` });
    });

    // Figure 19 (and RFC 7644 §3.7.3's DELETE result) has no version: nothing is left to version.
    it('Figure 19: the DELETE result has no version', () => expectFigure(3));
  });
});
