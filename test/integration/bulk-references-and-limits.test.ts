import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';

/**
 * RFC 7644 §3.7 beyond bulk.test.ts: circular references that cannot be resolved (§3.7.1),
 * bulkId references in paths and PATCH data (§3.7.2), the fields of each response operation
 * (§3.7.3) and the payload limit applied while reading a chunked body (§3.7.4).
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIMIT = 65536;

const t = useTestApp({ SCIMCAST_BULK_MAX_OPERATIONS: '100', SCIMCAST_BULK_MAX_PAYLOAD_SIZE: String(LIMIT) }, { worker: true });

type Op = { method: string; bulkId?: string; location?: string; version?: string; status: string; response?: { schemas: string[]; status: string; scimType?: string; detail: string } };
const bulk = async (Operations: unknown[], headers: Record<string, string> = {}) => {
  const res = await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK], Operations }, { headers });
  return res;
};
const ops = async (Operations: unknown[]): Promise<Op[]> => {
  const res = await bulk(Operations);
  expect(res.statusCode, res.body).toBe(200); // the bulk itself was processed (RFC 7644 §3.7)
  return res.json().Operations;
};
const user = (bulkId: string, userName: string, extra: Record<string, unknown> = {}) => ({ method: 'POST', path: '/Users', bulkId, data: { schemas: [USER], userName, ...extra } });
const group = (bulkId: string, displayName: string, members: string[], path = '/Groups') => ({
  method: 'POST',
  path,
  bulkId,
  data: { schemas: [GROUP], displayName, members: members.map((value) => ({ value })) },
});
const total = async (type: 'Users' | 'Groups', filter: string) => (await t.req('GET', `/scim/v2/${type}?filter=${encodeURIComponent(filter)}`)).json().totalResults as number;
const pathOf = (location: string) => new URL(location).pathname;

describe('circular bulkId references that cannot be resolved are 409 for exactly the operations involved (RFC 7644 §3.7.1)', () => {
  it('two users whose required userName references the other: both 409 naming the cycle and the cause; nothing written; the rest runs', async () => {
    const before = await total('Users', 'userName sw "gaps-"');
    const res = await ops([user('a', 'bulkId:b'), user('b', 'bulkId:a'), user('c', 'gaps-bystander')]);
    expect(res.map((o) => o.status)).toEqual(['409', '409', '201']);
    for (const [i, o] of res.slice(0, 2).entries()) {
      expect(o).toEqual({ method: 'POST', bulkId: i === 0 ? 'a' : 'b', status: '409', response: { schemas: [ERROR], status: '409', detail: expect.any(String) } });
      expect(o.response!.detail).toMatch(/^The circular bulkId reference between Operations\[0\], Operations\[1\] could not be resolved \(RFC 7644 §3\.7\.1\): creating Operations\[0\] failed: .*userName.*required/);
    }
    expect(await total('Users', 'userName sw "gaps-"')).toBe(before + 1);
  });

  it('an operation that only depends on an unresolved cycle is not "involved": it is 424 naming the failed operation', async () => {
    const res = await ops([group('s', 'gaps-self', ['bulkId:s']), group('d', 'gaps-dependent', ['bulkId:s']), { method: 'PATCH', path: '/Groups/bulkId:s', data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'z' }] } }]);
    expect(res.map((o) => o.status)).toEqual(['409', '424', '424']);
    expect(res[0]!.response!.detail).toMatch(/Operations\[0\] references its own bulkId.*a group cannot be a member of itself/);
    expect(res[1]!.response).toEqual({ schemas: [ERROR], status: '424', detail: "bulkId 's' refers to Operations[0], which failed" });
    expect(res[2]!.response!.detail).toBe("bulkId 's' refers to Operations[0], which failed");
    expect(await total('Groups', 'displayName sw "gaps-self"')).toBe(0);
    expect(await total('Groups', 'displayName eq "gaps-dependent"')).toBe(0);
  });

  it('a cycle member that cannot be mapped (no such endpoint) fails with its own 404; the other member is 409; the bulk still answers 200', async () => {
    const res = await ops([group('w', 'gaps-widget', ['bulkId:v'], '/Widgets'), group('v', 'gaps-v', ['bulkId:w'])]);
    expect(res[0]).toMatchObject({ method: 'POST', bulkId: 'w', status: '404', response: { status: '404', detail: 'Operations[0]: no endpoint /Widgets' } });
    expect(res[1]).toMatchObject({
      method: 'POST',
      bulkId: 'v',
      status: '409',
      response: { status: '409', detail: 'The circular bulkId reference between Operations[0], Operations[1] could not be resolved (RFC 7644 §3.7.1): Operations[0] failed' },
    });
    expect(res[1]!.location).toBeUndefined();
    expect(await total('Groups', 'displayName eq "gaps-v"')).toBe(0);
  });

  it('a cycle member that references a failed operation outside the cycle is 424; the rest of its cycle 409', async () => {
    await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'gaps-taken' });
    const res = await ops([user('dup', 'gaps-taken'), group('p', 'gaps-p', ['bulkId:q', 'bulkId:dup']), group('q', 'gaps-q', ['bulkId:p'])]);
    expect(res.map((o) => o.status)).toEqual(['409', '424', '409']);
    expect(res[0]!.response!.scimType).toBe('uniqueness');
    expect(res[1]!.response!.detail).toBe("bulkId 'dup' refers to Operations[0], which failed");
    expect(res[2]!.response!.detail).toMatch(/Operations\[1\], Operations\[2\].*Operations\[1\] failed/);
  });

  it('resolved where possible: a user who is their own manager (enterprise manager.value) is created, then completed with their own id', async () => {
    const res = await ops([user('me', 'gaps-own-manager', { schemas: [USER, ENT], [ENT]: { manager: { value: 'bulkId:me' } } })]);
    expect(res[0]).toMatchObject({ method: 'POST', bulkId: 'me', status: '201' });
    const me = (await t.req('GET', pathOf(res[0]!.location!))).json();
    expect(me[ENT].manager.value).toBe(me.id);
    expect(res[0]!.version).toBe(me.meta.version);
  });

  it('the async path gives the same 409 (the same engine, RFC 9967 §2.5.1.2)', async () => {
    const res = await bulk([group('s', 'gaps-async-self', ['bulkId:s']), user('ok', 'gaps-async-ok')], { prefer: 'respond-async' });
    expect(res.statusCode).toBe(202);
    let status;
    for (let i = 0; i < 600; i++) {
      status = (await t.req('GET', pathOf(res.headers.location as string))).json();
      if (status.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status.operations.map((o: { status: string }) => o.status)).toEqual(['409', '201']);
    expect(status.operations[0].response.detail).toMatch(/references its own bulkId.*a group cannot be a member of itself/);
    expect(await total('Groups', 'displayName eq "gaps-async-self"')).toBe(0);
  });
});

describe('bulkId references in operation paths and PATCH data (RFC 7644 §3.7.2)', () => {
  it('PUT and PATCH to "/Users/bulkId:x" act on the user the POST created; a PATCH value may reference a later POST', async () => {
    const g = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'gaps-existing' })).json();
    const res = await ops([
      // Forward reference from a non-POST operation's data: the member is created later in the array.
      { method: 'PATCH', path: `/Groups/${g.id}`, data: { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: 'bulkId:late' }] }] } },
      { method: 'PATCH', path: '/Users/bulkId:late', data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'patched' }] } },
      user('late', 'gaps-late'),
      { method: 'PUT', path: '/Users/bulkId:late', data: { schemas: [USER], userName: 'gaps-late', title: 'replaced', nickName: 'L' } },
    ]);
    expect(res.map((o) => [o.method, o.status])).toEqual([
      ['PATCH', '204'],
      ['PATCH', '200'],
      ['POST', '201'],
      ['PUT', '200'],
    ]);
    const late = (await t.req('GET', pathOf(res[2]!.location!))).json();
    // Each operation's location is the resolved resource, not the "bulkId:" path (§3.7.3).
    expect(res[1]!.location).toBe(res[2]!.location);
    expect(res[3]!.location).toBe(res[2]!.location);
    expect(late).toMatchObject({ title: 'replaced', nickName: 'L' });
    expect(late.meta.version).toBe(res[3]!.version);
    const members = (await t.req('GET', `/scim/v2/Groups/${g.id}`)).json().members;
    expect(members.map((m: { value: string }) => m.value)).toEqual([late.id]);
  });
});

describe('BulkResponse operations carry method, bulkId, location, version, status as a string, and response for failures (RFC 7644 §3.7.3)', () => {
  it('each kind of result has exactly the members the RFC shows', async () => {
    const u = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'gaps-fields' })).json();
    const gone = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'gaps-fields-gone' })).json();
    const res = await ops([
      user('new', 'gaps-fields-new'),
      user('clash', 'gaps-fields'),
      { method: 'PUT', path: `/Users/${u.id}`, version: u.meta.version, data: { schemas: [USER], userName: 'gaps-fields', title: 't' } },
      { method: 'PATCH', path: `/Users/${u.id}`, version: 'W/"999"', data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'no' }] } },
      { method: 'DELETE', path: `/Users/${gone.id}` },
      { method: 'DELETE', path: `/Users/${gone.id}` },
    ]);
    const keys = res.map((o) => Object.keys(o).sort());
    expect(keys).toEqual([
      ['bulkId', 'location', 'method', 'status', 'version'], // a created resource
      ['bulkId', 'method', 'response', 'status'], // a failed POST has no location
      ['location', 'method', 'status', 'version'], // success: response MAY be left out
      ['location', 'method', 'response', 'status'], // 412: the resource is named, no new version
      ['location', 'method', 'status'], // a DELETE leaves no version
      ['location', 'method', 'response', 'status'], // 404 on the second DELETE
    ]);
    expect(res.map((o) => o.status)).toEqual(['201', '409', '200', '412', '204', '404']);
    for (const o of res) expect(typeof o.status).toBe('string');
    for (const o of res.filter((x) => x.response)) expect(o.response).toMatchObject({ schemas: [ERROR], status: o.status, detail: expect.any(String) });
    expect(res[1]!.response!.scimType).toBe('uniqueness');
    expect(res[2]!.location).toBe(`https://scim.example.test/scim/v2/Users/${u.id}`);
    expect(res[2]!.version).toBe((await t.req('GET', `/scim/v2/Users/${u.id}`)).headers.etag);
  });
});

describe('maxPayloadSize is enforced while the body is read (RFC 7644 §3.7.4)', () => {
  async function port(): Promise<number> {
    const address = t.app.server.address();
    if (address && typeof address === 'object') return address.port;
    return Number(new URL(await t.app.listen({ port: 0, host: '127.0.0.1' })).port);
  }

  /**
   * POST /Bulk on a raw socket with a chunked body (Transfer-Encoding, no Content-Length) that
   * would be `size` bytes long: 16 KiB chunks with a pause between them, until a complete answer
   * has arrived. After `pauseAfter` bytes the client stops writing and waits, without ever
   * sending the rest or the last chunk: a server that waited for the whole body would never answer.
   */
  async function streamChunked(size: number, pauseAfter: number) {
    const p = await port();
    const op = (i: number) => JSON.stringify(user(`b${i}`, `gaps-stream-${i}`, { displayName: 'x'.repeat(200) })) + ',';
    const head = ['POST /scim/v2/Bulk HTTP/1.1', 'Host: 127.0.0.1', `Authorization: Bearer ${t.token}`, 'Content-Type: application/scim+json', 'Transfer-Encoding: chunked', '', ''].join('\r\n');
    return new Promise<{ status: number; headers: Record<string, string>; body: string; sent: number; closedByServer: boolean }>((resolve, reject) => {
      const socket = connect(p, '127.0.0.1');
      let raw = Buffer.alloc(0);
      let sent = 0;
      let answer: { status: number; headers: Record<string, string>; body: string; sent: number } | undefined;
      let serverClosed = false;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no complete answer; sent ${sent} bytes; got: ${raw.toString('latin1').slice(0, 500)}`));
      }, 60_000);
      const finish = () => {
        clearTimeout(timer);
        // Give the server's close a moment to arrive, then report whether it closed the connection.
        setTimeout(() => {
          socket.destroy();
          resolve({ ...answer!, closedByServer: serverClosed });
        }, 200);
      };
      socket.on('data', (chunk: Buffer) => {
        if (answer) return;
        raw = Buffer.concat([raw, chunk]);
        const text = raw.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        const body = raw.subarray(end + 4);
        if (body.length < Number(headers['content-length'])) return;
        answer = { status: Number(statusLine!.split(' ')[1]), headers, body: body.subarray(0, Number(headers['content-length'])).toString('utf8'), sent };
        finish();
      });
      socket.on('end', () => (serverClosed = true));
      socket.on('error', (e) => {
        // Writing after the server answered and closed may fail (EPIPE): what counts is the answer.
        if (!answer) {
          clearTimeout(timer);
          reject(new Error(`socket error before any answer, after ${sent} bytes: ${e.message}`));
        }
      });
      socket.on('connect', async () => {
        socket.write(head);
        let piece = `{"schemas":["${BULK}"],"Operations":[`;
        for (let i = 0; !answer && !serverClosed && !socket.destroyed && sent < Math.min(size, pauseAfter); ) {
          while (piece.length < 16_384) piece += op(i++);
          const ok = socket.write(`${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`);
          sent += Buffer.byteLength(piece);
          piece = '';
          if (!ok) await new Promise((r) => socket.once('drain', r).once('close', r));
          await new Promise((r) => setTimeout(r, 2));
        }
      });
    });
  }

  it('a chunked body (no Content-Length) larger than maxPayloadSize gets 413 naming the limit before the client has sent it all', async () => {
    const before = await total('Users', 'userName sw "gaps-stream-"');
    const size = 64 * 1024 * 1024; // the body the client means to send: 1024 times the limit
    const res = await streamChunked(size, 16 * LIMIT);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(JSON.parse(res.body)).toEqual({ schemas: [ERROR], status: '413', detail: `Bulk request body exceeds maxPayloadSize of ${LIMIT} bytes` });
    // Answered with most of the body unsent (the last chunk never was): nothing waited for the end.
    expect(res.sent).toBeGreaterThan(LIMIT);
    expect(res.sent).toBeLessThanOrEqual(16 * LIMIT + 16_384 * 2);
    // The rest of the body is not read either: the server closes the connection.
    expect(res.headers.connection).toBe('close');
    expect(res.closedByServer).toBe(true);
    expect(await total('Users', 'userName sw "gaps-stream-"')).toBe(before); // nothing was created
  });

  // A Content-Length over the limit, refused before any body byte: test/spec/rfc7644-bulk.test.ts
  // ("3.7.4-max-payload-size.json: Content-Length 4294967296 …"); 413 for maxOperations there too.

  it('a body just within maxPayloadSize is read and processed (the limit is the payload, not less)', async () => {
    const Operations = [user('fit', 'gaps-fits', { displayName: 'x'.repeat(LIMIT - 400) })];
    const body = JSON.stringify({ schemas: [BULK], Operations });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(LIMIT);
    const res = await t.req('POST', '/scim/v2/Bulk', body, { headers: { 'content-type': 'application/scim+json' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().Operations[0].status).toBe('201');
  });
});
