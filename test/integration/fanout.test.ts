import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySet } from '../../src/events/verify.js';
import { fanOutOnce } from '../../src/feeds/fanout.js';
import { startTestApp, type TestApp, useTestApp } from '../helpers/app.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';
import { jtiOf } from '../helpers/sets.js';

/**
 * Changes are signed into SETs after their commit, by the worker's fan-out. What a stream gets is
 * still decided by the moment the change committed (SSF 1.0: a stream carries the events that
 * follow its creation; its configuration applies from the next change), and the async status
 * resource names, per stream, the SETs that stream really received.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';
const ASYNCRESP = `${EV}misc:asyncresp`;
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

const subjectsOf = async (t: TestApp, streamId: string) => {
  const polled = (await t.req('POST', `/ssf/streams/${streamId}/poll`, { returnImmediately: true, maxEvents: 100 })).json() as { sets: Record<string, string> };
  return Object.values(polled.sets).map((jws) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as { sub_id: { uri: string }; events: Record<string, unknown> });
};

describe('routing by the moment of the commit (the fan-out held back until settle())', () => {
  const t = useTestApp({}, { fanout: false });

  const mkUser = async (userName: string) => (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName })).json() as { id: string };

  it('a stream created after a change committed does not get it, even though the change was signed later', async () => {
    const before = await mkUser('committed-before-stream');
    // Created while the change waits for its fan-out.
    const s = (await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:create:notice`] }, { settle: false })).json();
    const after = await mkUser('committed-after-stream');
    expect(await t.settle()).toBeGreaterThanOrEqual(2);
    const uris = (await subjectsOf(t, s.stream_id)).map((c) => c.sub_id.uri);
    expect(uris).toEqual([`/Users/${after.id}`]);
    expect(uris).not.toContain(`/Users/${before.id}`);
  });

  it('the metrics show the changes waiting for the fan-out, and how long the oldest has waited', async () => {
    await mkUser('waiting-for-fanout');
    const token = await t.tokenWith(['metrics:read']);
    const sample = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec((await t.req('GET', '/metrics', undefined, { auth: token })).body)?.[1]);
    expect(await sample('scimcast_outbox_changes')).toBe(1);
    expect(await sample('scimcast_outbox_oldest_seconds')).toBeGreaterThanOrEqual(0);
    await t.settle();
    expect(await sample('scimcast_outbox_changes')).toBe(0);
    expect(await sample('scimcast_outbox_oldest_seconds')).toBe(0);
  });

  it("a stream's new filter applies from the next change; a change before it keeps the old filter", async () => {
    const s = (await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:create:notice`] })).json();
    const a = await mkUser('under-old-filter');
    const patched = await t.req('PATCH', '/ssf/streams', { stream_id: s.stream_id, events_requested: [`${EV}prov:create:full`] }, { settle: false });
    expect(patched.statusCode, patched.body).toBe(200);
    const b = await mkUser('under-new-filter');
    const claims = await subjectsOf(t, s.stream_id);
    expect(claims.map((c) => [c.sub_id.uri, Object.keys(c.events)[0]])).toEqual([
      [`/Users/${a.id}`, `${EV}prov:create:notice`],
      [`/Users/${b.id}`, `${EV}prov:create:full`],
    ]);
  });

  it('a disabled stream drops what committed while it was disabled, though the fan-out ran after it was enabled again', async () => {
    const s = (await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:create:notice`] })).json();
    await t.req('POST', '/ssf/status', { stream_id: s.stream_id, status: 'disabled' }, { settle: false });
    const dropped = await mkUser('while-disabled');
    await t.req('POST', '/ssf/status', { stream_id: s.stream_id, status: 'enabled' }, { settle: false });
    const kept = await mkUser('after-enabled');
    const uris = (await subjectsOf(t, s.stream_id)).map((c) => c.sub_id.uri);
    expect(uris).toContain(`/Users/${kept.id}`);
    expect(uris).not.toContain(`/Users/${dropped.id}`);
  });

  it('a stream deleted while the fan-out signs for it waits for that batch, and the batch commits', async () => {
    const s = (await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:create:notice`] })).json();
    await mkUser('signed-while-deleted');
    let signing!: () => void;
    const signingStarted = new Promise<void>((r) => (signing = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    // A signer that stops after the routes were read, so the DELETE lands mid-batch.
    const slowSign: typeof t.deps.fanout.sign = async (claims, o) => {
      signing();
      await released;
      return t.deps.fanout.sign(claims, o);
    };
    const batch = fanOutOnce({ ...t.deps.fanout, sign: slowSign, storage: t.deps.storage }, { wait: true });
    await signingStarted;
    let deletedAt = 0;
    const deleted = t.req('DELETE', `/ssf/streams?stream_id=${s.stream_id}`, undefined, { settle: false }).then((r) => ((deletedAt = Date.now()), r));
    await new Promise((r) => setTimeout(r, 300));
    expect(deletedAt).toBe(0); // the DELETE waits for the batch
    const committedAt = Date.now();
    release();
    expect(await batch).toBeGreaterThanOrEqual(1);
    expect((await deleted).statusCode).toBe(204);
    expect(deletedAt).toBeGreaterThanOrEqual(committedAt);
    expect((await t.req('GET', `/ssf/streams?stream_id=${s.stream_id}`)).statusCode).toBe(404);
  });

  it('a subject added to a NONE stream counts from the next change; one removed stops at the next change', async () => {
    const s = (await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:put:notice`], default_subjects: 'NONE' })).json();
    const u = await mkUser('subject-window');
    const put = (title: string) => t.req('PUT', `/scim/v2/Users/${u.id}`, { schemas: [USER], userName: 'subject-window', title });
    await put('before-add');
    await t.req('POST', '/ssf/subjects/add', { stream_id: s.stream_id, subject: { format: 'scim', uri: `/Users/${u.id}` } }, { settle: false });
    await put('while-added');
    await t.req('POST', '/ssf/subjects/remove', { stream_id: s.stream_id, subject: { format: 'scim', uri: `/Users/${u.id}` } }, { settle: false });
    await put('after-remove');
    const claims = await subjectsOf(t, s.stream_id);
    expect(claims.map((c) => Object.keys(c.events)[0])).toEqual([`${EV}prov:put:notice`]);
  });
});

describe('the async status resource names the SET each stream got', () => {
  let t: TestApp;
  let rec: Receiver;
  beforeAll(async () => {
    t = await startTestApp({ SCIMCAST_PUSH_BACKOFF_BASE_MS: '20', SCIMCAST_PUSH_BACKOFF_CAP_MS: '100' }, { worker: true });
    rec = await startReceiver();
  });
  afterAll(async () => {
    await t?.close();
    await rec?.close();
  });

  it('over push and poll, in both profiles, for a single request and a bulk: operations[].sets[].jti equal the jtis received', async () => {
    const streams = {
      push: (await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url }, events_requested: [ASYNCRESP] })).json().stream_id as string,
      poll: (await t.req('POST', '/ssf/streams', { events_requested: [ASYNCRESP] })).json().stream_id as string,
      draft: (await t.req('POST', '/ssf/streams', { events_requested: [ASYNCRESP], profile: 'draft-03' })).json().stream_id as string,
    };
    const single = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'status-sets-single' }, { headers: { prefer: 'respond-async' } });
    const Operations = ['a', 'b', 'c'].map((k) => ({ method: 'POST', path: '/Users', bulkId: k, data: { schemas: [USER], userName: `status-sets-${k}` } }));
    const bulk = await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK], Operations }, { headers: { prefer: 'respond-async' } });
    const paths = [single, bulk].map((r) => new URL(r.headers.location as string).pathname);
    const done = async () => (await Promise.all(paths.map(async (p) => (await t.req('GET', p)).json()))).every((d) => d.status === 'completed' && d.operations.every((o: { sets?: unknown[] }) => o.sets?.length === 3));
    await until(done, 30_000);
    const named = new Map<string, string[]>(Object.values(streams).map((id) => [id, []]));
    for (const p of paths) {
      for (const op of (await t.req('GET', p)).json().operations as { sets: { stream_id: string; jti: string }[] }[]) {
        expect(op.sets.map((x) => x.stream_id).sort()).toEqual(Object.values(streams).sort());
        for (const x of op.sets) named.get(x.stream_id)!.push(x.jti);
      }
    }
    // Poll streams: exactly the named jtis, each verifying for its stream and txn form.
    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    for (const id of [streams.poll, streams.draft]) {
      const polled = (await t.req('POST', `/ssf/streams/${id}/poll`, { returnImmediately: true, maxEvents: 100 })).json() as { sets: Record<string, string> };
      expect(Object.keys(polled.sets).sort()).toEqual([...named.get(id)!].sort());
      for (const jws of Object.values(polled.sets)) await verifySet(jws, { jwks });
    }
    const draftTxns = await Promise.all(named.get(streams.draft)!.map(async (j) => (await t.deps.storage.events.byJti(j))!.txn));
    expect(draftTxns.filter((x) => /-\d+$/.test(x))).toHaveLength(3); // <txn>-<n> from 1 in draft-03
    // Push: the receiver got exactly the named jtis.
    await until(() => new Set(rec.received.map((r) => jtiOf(r.body))).size === 4, 30_000);
    expect([...new Set(rec.received.map((r) => jtiOf(r.body)))].sort()).toEqual([...named.get(streams.push)!].sort());
  });
});

describe('prepared statements after a migration adds columns', () => {
  const t = useTestApp({}, { fanout: false });
  const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
  const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
  const TABLES = ['resources', 'changes', 'feed_versions', 'feed_subjects', 'events'];

  it('creates, member adds and the fan-out, on the same running app, answer and deliver as before ALTER TABLE … ADD COLUMN', async () => {
    const s = (await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:create:notice`, `${EV}prov:patch:notice`] })).json();
    const group = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'prepared-after-migration' })).json() as { id: string };
    const round = async (userName: string) => {
      const user = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName })).json() as { id: string };
      const added = await t.req('PATCH', `/scim/v2/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }] });
      expect(added.statusCode, added.body).toBe(204);
      await t.settle();
      return user;
    };
    // Several rounds first: the pool's connections have prepared the writes' and the fan-out's statements by then.
    for (let i = 0; i < 3; i++) await round(`prepared-before-${i}`);
    // Polled without acknowledging: the SETs after the migration follow these.
    const before = (await subjectsOf(t, s.stream_id)).length;
    const admin = new pg.Client({ connectionString: t.dbUrl });
    await admin.connect();
    try {
      for (const table of TABLES) await admin.query(`alter table ${table} add column extra text`);
      const users = [];
      for (let i = 0; i < 3; i++) users.push(await round(`prepared-after-${i}`));
      const claims = await subjectsOf(t, s.stream_id);
      expect(claims.slice(before).map((c) => [c.sub_id.uri, Object.keys(c.events)[0]])).toEqual(
        users.flatMap((u) => [
          [`/Users/${u.id}`, `${EV}prov:create:notice`],
          [`/Groups/${group.id}`, `${EV}prov:patch:notice`],
        ]),
      );
      const read = await t.req('GET', `/scim/v2/Groups/${group.id}`);
      expect((read.json() as { members: unknown[] }).members).toHaveLength(6);
    } finally {
      for (const table of TABLES) await admin.query(`alter table ${table} drop column if exists extra`);
      await admin.end();
    }
  });
});
