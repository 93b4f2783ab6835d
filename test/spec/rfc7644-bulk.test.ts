import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, useTestApp } from '../helpers/app.js';
import { specExample } from '../helpers/spec-examples.js';

/**
 * RFC 7644 §3.7 bulk examples (spec-examples/rfc7644/3.7.x-*.json) replayed against the real app.
 * The RFC's hosts, ids, versions and timestamps are the example server's: the replay maps the
 * example's resource ids to resources it creates (or the bulk response returns), its versions to
 * their current ETags, and "https://example.com/v2" to our SCIM base; everything else is compared
 * as printed.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
/** The RFC 7644 §3.7.3 example's POST says this instead of the User URN (a typo in the RFC). */
const RFC_WRONG_USER_URN = 'urn:ietf:params:scim:api:messages:2.0:User';
const SCIM = `${BASE_URL}/scim/v2`;
const RFC_BASE = 'https://example.com/v2';
const WEAK_ETAG = /^W\/"[^"]+"$/;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

type Json = Record<string, unknown>;
interface BulkOp {
  method: string;
  path: string;
  bulkId?: string;
  version?: string;
  data?: Json;
}
interface BulkBody {
  schemas: string[];
  failOnErrors?: number;
  Operations: BulkOp[];
}
interface ResponseOp {
  method: string;
  bulkId?: string;
  location?: string;
  version?: string;
  status: string | { code: string };
  response?: Json;
}
interface BulkExample {
  request: { method: string; path: string; headers?: Record<string, string>; body: BulkBody };
  response?: { status: number; body: { schemas: string[]; Operations: ResponseOp[] } };
  followUp?: { method: string; path: string; response?: { status: number; headers: Record<string, string>; body: Json } };
}

// The §3.7.4 example's limit is "1 megabyte" (1048576); maxOperations is ours to choose.
const t = useTestApp({ SCIMCAST_BULK_MAX_PAYLOAD_SIZE: '1048576', SCIMCAST_BULK_MAX_OPERATIONS: '1000' });

/** Deep copy of an example value with every RFC string replaced (ids, versions, the RFC base URL). */
function substitute<T>(value: T, map: ReadonlyMap<string, string>): T {
  const all = new Map([[RFC_BASE, SCIM], ...map]);
  return JSON.parse(JSON.stringify(value), (_k, v: unknown) => {
    if (typeof v !== 'string') return v;
    let s = v;
    for (const [from, to] of all) s = s.split(from).join(to);
    return s;
  }) as T;
}

/** The RFC sends to "/v2/Bulk" on its host; ours is /scim/v2/Bulk. */
const ourPath = (rfcPath: string) => rfcPath.replace(/^\/v2\//, '/scim/v2/');
const pathOf = (location: string) => new URL(location).pathname;
const idOf = (location: string) => location.slice(location.lastIndexOf('/') + 1);

async function createUser(body: Json) {
  const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; meta: { version: string; location: string } };
}

/** Remove every User and Group, so that each example starts from an empty service provider. */
async function deleteAll() {
  for (const type of ['Groups', 'Users']) {
    const list = (await t.req('GET', `/scim/v2/${type}?count=200`)).json() as { Resources?: { id: string }[] };
    for (const r of list.Resources ?? []) await t.req('DELETE', `/scim/v2/${type}/${r.id}`);
  }
}

const postBulk = (ex: Pick<BulkExample, 'request'>, body: BulkBody = ex.request.body) => t.req(ex.request.method, ourPath(ex.request.path), body);

describe('RFC 7644 §3.7.1 circular reference example', () => {
  afterAll(deleteAll);

  it('3.7.1-circular-reference.json: both groups are created, each a member of the other, as the RFC ListResponse shows', async () => {
    type ListExample = Omit<BulkExample, 'response'> & { response: { status: number; body: { Resources: (Json & { id: string; meta: Json })[] } } };
    const ex = specExample<ListExample>('rfc7644/3.7.1-circular-reference.json').example;
    const res = await postBulk(ex);
    expect(res.statusCode, res.body).toBe(200); // the bulk itself was processed (§3.7)
    const ops = res.json().Operations as ResponseOp[];
    expect(ops.map((o) => [o.method, o.bulkId, o.status])).toEqual([
      ['POST', 'qwerty', '201'],
      ['POST', 'ytrewq', '201'],
    ]);
    for (const o of ops) expect(o.location).toMatch(new RegExp(`^${SCIM}/Groups/${UUID}$`));

    // The RFC's Group A (c3a26dd3-…) is the "qwerty" POST, Group B (6c5bb468-…) the "ytrewq" POST.
    const [a, b] = ex.response.body.Resources;
    const ids = new Map([
      [a!.id, idOf(ops[0]!.location!)],
      [b!.id, idOf(ops[1]!.location!)],
    ]);
    for (const [k, rfcResource] of [a!, b!].entries()) {
      // "the following is returned from a subsequent GET request": read each group back.
      const got = await t.req('GET', pathOf(ops[k]!.location!));
      expect(got.statusCode).toBe(200);
      const body = got.json();
      const { meta, ...expected } = substitute(rfcResource, ids);
      expect(body).toMatchObject(expected);
      // Exactly the other group, typed "Group", with its $ref (scimcast also adds the optional display).
      expect(body.members).toHaveLength(1);
      expect(body.members).toMatchObject(expected.members as Json[]);
      expect(body.meta).toMatchObject({ resourceType: meta.resourceType, location: meta.location });
      expect(body.meta.version).toMatch(WEAK_ETAG);
      expect(got.headers.etag).toBe(body.meta.version);
      expect(ops[k]!.version).toBe(body.meta.version); // the bulk result names the version the group ended with
      for (const ts of ['created', 'lastModified']) expect(new Date(body.meta[ts]).toISOString()).toBe(body.meta[ts]);
    }
  });
});

describe('RFC 7644 §3.7.2 bulkId temporary identifiers', () => {
  afterAll(deleteAll);

  it('3.7.2-bulkid-user-group.json: Alice is created, "bulkId:qwerty" becomes her id in Tour Guides, and the responses match the RFC', async () => {
    const ex = specExample<BulkExample>('rfc7644/3.7.2-bulkid-user-group.json').example;
    const res = await postBulk(ex);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    const body = res.json() as { schemas: string[]; Operations: ResponseOp[] };
    const rfc = ex.response!.body;
    expect(body.schemas).toEqual(rfc.schemas);
    expect(body.Operations).toHaveLength(rfc.Operations.length);
    const ids = new Map<string, string>();
    for (const [i, rfcOp] of rfc.Operations.entries()) {
      const ours = body.Operations[i]!;
      ids.set(idOf(rfcOp.location!), idOf(ours.location!));
      ids.set(rfcOp.version!, ours.version!);
    }
    for (const [i, rfcOp] of rfc.Operations.entries()) {
      // The RFC writes this status as {"code": "201"}; scimcast writes the string "201", the form of
      // every other RFC 7644 §3.7.3 example and of the §3.12 error status.
      const { status, ...rest } = substitute(rfcOp, ids);
      expect(body.Operations[i]).toEqual({ ...rest, status: (status as { code: string }).code });
      expect(body.Operations[i]!.version).toMatch(WEAK_ETAG);
    }

    // The subsequent GET of the group: Location and ETag headers, Alice's id as the member.
    const follow = ex.followUp!.response!;
    const groupPath = ourPath(substitute(ex.followUp!.path, ids));
    const got = await t.req('GET', groupPath);
    expect(got.statusCode).toBe(follow.status);
    const expected = substitute(follow, ids);
    expect(got.headers['content-type']).toMatch(/^application\/scim\+json/);
    // The RFC also shows a Location header on this GET (as in its §3.4.1 example). RFC 7644 requires
    // Location only on a 201 (§3.3), and scimcast sends it only there: compared through meta.location.
    expect(got.headers.location ?? expected.headers.Location).toBe(expected.headers.Location);
    expect(got.headers.etag).toBe(expected.headers.ETag);
    const { meta, ...resource } = expected.body as Json & { meta: Json };
    expect(got.json()).toMatchObject(resource);
    expect(got.json().meta).toMatchObject({ resourceType: meta.resourceType, location: meta.location, version: meta.version });
  });

  it('3.7.2-bulkid-enterprise-manager.json: "bulkId:qwerty" in the enterprise manager.value becomes Alice\'s id', async () => {
    await deleteAll(); // the previous example also created "Alice"
    const ex = specExample<BulkExample>('rfc7644/3.7.2-bulkid-enterprise-manager.json').example;
    const res = await postBulk(ex);
    expect(res.statusCode, res.body).toBe(200);
    const ops = res.json().Operations as ResponseOp[];
    expect(ops.map((o) => [o.method, o.bulkId, o.status])).toEqual([
      ['POST', 'qwerty', '201'],
      ['POST', 'ytrewq', '201'],
    ]);
    const bob = (await t.req('GET', pathOf(ops[1]!.location!))).json();
    const ent = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const sent = ex.request.body.Operations[1]!.data!;
    expect(bob).toMatchObject({ ...sent, [ent]: { employeeNumber: '11250', manager: { value: idOf(ops[0]!.location!) } } });
  });
});

describe('RFC 7644 §3.7.3 add, update and remove users in one request', () => {
  const ex = specExample<BulkExample>('rfc7644/3.7.3-bulk-request-response.json').example;
  const rfcOps = ex.request.body.Operations;
  /** The RFC's ids and versions mapped to the users made for the PUT, PATCH and DELETE. */
  const ids = new Map<string, string>();
  let response: { statusCode: number; body: { schemas: string[]; Operations: ResponseOp[] } };

  /** Make the three users the RFC's PUT, PATCH and DELETE address; map their ids and versions. */
  async function arrange() {
    await deleteAll();
    ids.clear();
    const targets: [BulkOp, Json][] = [
      [rfcOps[1]!, { userName: 'Bob' }],
      [rfcOps[2]!, { userName: 'dave.before', nickName: 'Davey' }],
      [rfcOps[3]!, { userName: 'eve' }],
    ];
    for (const [op, body] of targets) {
      const u = await createUser(body);
      ids.set(idOf(op.path), u.id);
      ids.set(op.version!, u.meta.version);
    }
  }

  /** The request with the server's ids and versions; `asPrinted` keeps the RFC's wrong User URN. */
  function request(opts: { asPrinted?: boolean; withFailOnErrors?: boolean; keepVersions?: boolean } = {}): BulkBody {
    const map = new Map([...ids].filter(([k]) => !(opts.keepVersions && k.startsWith('W/'))));
    const body = substitute(ex.request.body, map);
    if (!opts.asPrinted) body.Operations[0]!.data!.schemas = [USER];
    if (opts.withFailOnErrors === false) delete body.failOnErrors;
    return body;
  }

  beforeAll(async () => {
    await arrange();
    const res = await t.req('POST', ourPath(ex.request.path), request());
    response = { statusCode: res.statusCode, body: res.json() };
  });
  afterAll(deleteAll);

  /** The RFC's response operation `i` with our location, and our version where it shows one. */
  async function expectedOp(i: number) {
    const rfcOp = ex.response!.body.Operations[i]!;
    const ours = response.body.Operations[i]!;
    // The POST creates a new user, whose id only the response can tell.
    const map = new Map(ids);
    if (rfcOp.method === 'POST') map.set(idOf(rfcOp.location!), idOf(ours.location ?? ''));
    const expected: Json = { ...substitute(rfcOp, map) };
    if (rfcOp.version) {
      const current = await t.req('GET', pathOf(expected.location as string));
      expected.version = current.headers.etag; // the version the resource has after the operation
    }
    return expected;
  }

  it('answers 200 with a BulkResponse holding one result per operation, in request order', () => {
    expect(response.statusCode).toBe(ex.response!.status);
    expect(response.body.schemas).toEqual([BULK_RESPONSE]);
    expect(response.body.Operations.map((o) => o.method)).toEqual(ex.response!.body.Operations.map((o) => o.method));
  });

  it('POST: Alice is created: location, bulkId "qwerty", version and status "201" as in the RFC', async () => {
    const expected = await expectedOp(0);
    expect(response.body.Operations[0]).toEqual(expected);
    expect(response.body.Operations[0]!.location).toMatch(new RegExp(`^${SCIM}/Users/${UUID}$`));
    expect((await t.req('GET', pathOf(expected.location as string))).json().userName).toBe('Alice');
  });

  it('PUT: Bob is replaced under his version: location, new version and status "200" as in the RFC', async () => {
    expect(response.body.Operations[1]).toEqual(await expectedOp(1));
    expect(response.body.Operations[1]!.version).not.toBe(ids.get(rfcOps[1]!.version!)); // the ETag moved on
  });

  it('PATCH: nickName is removed and userName becomes "Dave": location, new version and status "200" as in the RFC', async () => {
    // PATCH is being implemented (README); this is the only assertion that depends on it.
    expect(response.body.Operations[2]).toEqual(await expectedOp(2));
    const dave = (await t.req('GET', `/scim/v2/Users/${ids.get(idOf(rfcOps[2]!.path))}`)).json();
    expect(dave.userName).toBe('Dave');
    expect(dave.nickName).toBeUndefined();
  });

  it('DELETE: the user is removed: location and status "204", as in the RFC', async () => {
    const { version: _v, ...rest } = response.body.Operations[3]!;
    expect(rest).toEqual(await expectedOp(3));
    expect((await t.req('GET', `/scim/v2/Users/${ids.get(idOf(rfcOps[3]!.path))}`)).statusCode).toBe(404);
  });

  // The RFC's DELETE result has no version (RFC 7644 §3.7.3, and RFC 9967 Figure 19): after a
  // DELETE there is no "current resource version" (§3.7).
  it('DELETE: the result has no version, as in the RFC', async () => {
    expect(response.body.Operations[3]).toEqual(await expectedOp(3));
  });

  it('3.7.3-failonerrors-response.json: sent as printed (its POST has the wrong schema URN), the POST fails and failOnErrors 1 stops the rest', async () => {
    await arrange();
    const res = await t.req('POST', ourPath(ex.request.path), request({ asPrinted: true }));
    const rfc = specExample<{ status: number; body: { schemas: string[]; Operations: ResponseOp[] } }>('rfc7644/3.7.3-failonerrors-response.json').example;
    expect(res.statusCode).toBe(rfc.status);
    const body = res.json();
    expect(body.schemas).toEqual(rfc.body.schemas);
    // The RFC does not say why its POST failed, so scimType and detail are compared by presence.
    const { response: rfcError, ...rfcOp } = rfc.body.Operations[0]!;
    expect(body.Operations).toEqual([
      { ...rfcOp, response: { ...rfcError, scimType: expect.any(String), detail: expect.any(String) } },
    ]);
    expect(body.Operations[0].location).toBeUndefined(); // a failed POST has no location (§3.7.3)
    // Nothing after the error ran: Bob keeps his version, the PATCH and DELETE targets are untouched.
    const bob = await t.req('GET', `/scim/v2/Users/${ids.get(idOf(rfcOps[1]!.path))}`);
    expect(bob.headers.etag).toBe(ids.get(rfcOps[1]!.version!));
    expect((await t.req('GET', `/scim/v2/Users/${ids.get(idOf(rfcOps[2]!.path))}`)).json().nickName).toBe('Davey');
    expect((await t.req('GET', `/scim/v2/Users/${ids.get(idOf(rfcOps[3]!.path))}`)).statusCode).toBe(200);
  });

  it('3.7.3-all-failed-response.json: without failOnErrors every operation runs and fails: 400, 412, 412, 404, with a location for all but the POST (§3.7.3, §3.14)', async () => {
    await arrange();
    // As printed: the wrong User URN, the RFC's own version values (stale here), the RFC's DELETE id (absent here).
    const sent = request({ asPrinted: true, withFailOnErrors: false, keepVersions: true });
    const deleteTarget = idOf(rfcOps[3]!.path);
    ids.delete(deleteTarget);
    sent.Operations[3]!.path = rfcOps[3]!.path;
    const res = await t.req('POST', ourPath(ex.request.path), sent);
    const rfc = specExample<{ status: number; body: { schemas: string[]; Operations: ResponseOp[] } }>('rfc7644/3.7.3-all-failed-response.json').example;
    expect(res.statusCode).toBe(rfc.status);
    const ops = res.json().Operations as ResponseOp[];
    expect(ops.map((o) => [o.method, o.status])).toEqual(rfc.body.Operations.map((o) => [o.method, o.status]));
    for (const [i, rfcOp] of substitute(rfc.body.Operations, ids).entries()) {
      const { response: rfcError, ...rest } = rfcOp;
      expect(Object.keys(ops[i]!).sort(), `Operations[${i}]`).toEqual(Object.keys(rfcOp).sort());
      expect(ops[i], `Operations[${i}]`).toMatchObject(rest);
      // Error wording is the server's own: compare the §3.12 members the RFC shows.
      expect(ops[i]!.response, `Operations[${i}]`).toMatchObject({ schemas: [ERROR], status: rfcError!.status, detail: expect.any(String) });
    }
  });
});

describe('RFC 7644 §3.7.4 maximum operations and payload size', () => {
  const ex = specExample<{ request: { method: string; path: string; headers: Record<string, string> }; response: { status: number; headers: Record<string, string>; body: Json } }>(
    'rfc7644/3.7.4-max-payload-size.json',
  ).example;

  /** Send the RFC's request line and headers on a real socket, without the 4 GiB body it announces. */
  async function rawRequest(head: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const address = t.app.server.address();
    const port = address && typeof address === 'object' ? address.port : await t.app.listen({ port: 0, host: '127.0.0.1' }).then((u) => Number(new URL(u).port));
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let raw = Buffer.alloc(0);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no complete answer within 10 s; got: ${raw.toString()}`));
      }, 10_000);
      const tryParse = () => {
        const text = raw.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        const length = Number(headers['content-length'] ?? NaN);
        const body = raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
        if (Number.isNaN(length) || body.length < length) return;
        clearTimeout(timer);
        socket.destroy();
        resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: body.subarray(0, length).toString('utf8') });
      };
      socket.on('data', (chunk: Buffer) => {
        raw = Buffer.concat([raw, chunk]);
        tryParse();
      });
      socket.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.write(head);
    });
  }

  it('3.7.4-max-payload-size.json: Content-Length 4294967296 against maxPayloadSize 1048576 is refused with 413 naming the limit, before the body is read', async () => {
    const headers = { ...ex.request.headers, Authorization: `Bearer ${t.token}` };
    const head = `${ex.request.method} ${ourPath(ex.request.path)} HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n')}\r\n\r\n`;
    const res = await rawRequest(head);
    expect(res.status).toBe(ex.response.status);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    const body = JSON.parse(res.body);
    const { detail, ...rest } = ex.response.body;
    expect(body).toMatchObject(rest);
    // "The returned response MUST specify the limit exceeded in the body of the error response."
    expect(detail).toMatch(/maxPayloadSize.*1048576/);
    expect(body.detail).toMatch(/maxPayloadSize/);
    expect(body.detail).toMatch(/1048576/);
  });

  it('the limits the 413 names are the ones ServiceProviderConfig advertises ("These limits MAY be retrieved from the service provider configuration")', async () => {
    const spc = (await t.req('GET', '/scim/v2/ServiceProviderConfig')).json();
    expect(spc.bulk).toEqual({ supported: true, maxOperations: 1000, maxPayloadSize: 1048576 });
  });

  it('"If either limit is exceeded": 1001 operations against maxOperations 1000 is 413 naming maxOperations (the RFC shows no example of this one)', async () => {
    const Operations = Array.from({ length: 1001 }, (_, i) => ({ method: 'DELETE', path: `/Users/${i}` }));
    const res = await t.req('POST', '/scim/v2/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ schemas: [ERROR], status: '413', detail: expect.stringMatching(/maxOperations.*1000/) });
  });
});
