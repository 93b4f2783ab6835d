import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { call, killAll, SHARED_BASE_URL, startServe } from '../helpers/procs.js';
import { ERROR_URN, snapshot } from './support.js';

/**
 * Every change is signed and stored once per stream, so streams tax every write: one token must
 * not create them without bound. SCIMCAST_STREAMS_MAX_PER_OWNER and SCIMCAST_STREAMS_MAX cap them;
 * a create over a cap is a 409 (SSF 1.0 §8.1.1.1) that creates nothing, a delete frees a slot,
 * and concurrent creates, in one process or two, never pass a cap.
 */
const EV = 'urn:ietf:params:scim:event:';
const JSON_CT = { 'content-type': 'application/json' };
const POLL_STREAM = { events_requested: [`${EV}prov:create:notice`] };

const apps: TestApp[] = [];
afterAll(async () => {
  await killAll();
  for (const t of apps) await t.close();
});

async function app(env: Record<string, string>): Promise<TestApp> {
  const t = await startTestApp(env);
  apps.push(t);
  return t;
}

const create = (t: TestApp, token = t.token) => t.req('POST', '/ssf/streams', POLL_STREAM, { auth: token, headers: JSON_CT });
const streamCount = async (t: TestApp) => Number((await t.database.pool.query('select count(*)::int as n from feeds')).rows[0].n);

describe('stream caps', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await app({ SCIMCAST_STREAMS_MAX_PER_OWNER: '3', SCIMCAST_STREAMS_MAX: '5' });
  });

  it('at the per-owner cap the next create is a 409 naming the bound and creates nothing; other owners go on; a delete frees a slot', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await create(t);
      expect(res.statusCode, res.body).toBe(201);
      ids.push(res.json().stream_id);
    }
    const before = await snapshot(t);
    const refused = await create(t);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({
      schemas: [ERROR_URN],
      status: '409',
      detail: 'stream limit reached: this owner has 3 streams, the most allowed per owner (SCIMCAST_STREAMS_MAX_PER_OWNER = 3); delete one to create another',
    });
    expect(await snapshot(t)).toEqual(before);
    expect((await t.req('GET', '/ssf/streams')).json()).toHaveLength(3);

    // Updating a stream at the cap is no create: it still works.
    expect((await t.req('PATCH', '/ssf/streams', { stream_id: ids[0], description: 'at the cap' }, { headers: JSON_CT })).statusCode).toBe(200);

    // The deployment cap (5): another owner gets the two slots left, then a 409 naming it.
    const other = await t.tokenWith(['feeds:admin']);
    for (let i = 0; i < 2; i++) expect((await create(t, other)).statusCode).toBe(201);
    const full = await create(t, other);
    expect(full.statusCode).toBe(409);
    expect(full.json()).toMatchObject({ status: '409', detail: expect.stringContaining('the most allowed (SCIMCAST_STREAMS_MAX = 5)') });
    expect(await streamCount(t)).toBe(5);

    // A deleted stream frees its slot, for its owner.
    expect((await t.req('DELETE', `/ssf/streams?stream_id=${ids[0]}`)).statusCode).toBe(204);
    expect((await create(t)).statusCode).toBe(201);
    expect((await create(t)).statusCode).toBe(409);
    expect(await streamCount(t)).toBe(5);
  });
});

describe('concurrent creates', () => {
  it('never pass the cap: of 12 creates at once with room for 4, exactly 4 succeed', async () => {
    const t = await app({ SCIMCAST_STREAMS_MAX_PER_OWNER: '4', SCIMCAST_STREAMS_MAX: '100' });
    const answers = await Promise.all(Array.from({ length: 12 }, () => create(t)));
    const statuses = answers.map((a) => a.statusCode).sort();
    expect(statuses).toEqual([...Array<number>(4).fill(201), ...Array<number>(8).fill(409)]);
    expect(await streamCount(t)).toBe(4);
  });

  it('never pass the cap across two server processes on one database', async () => {
    const t = await app({});
    const env = { DATABASE_URL: t.dbUrl, BASE_URL: SHARED_BASE_URL, SCIMCAST_STREAMS_MAX_PER_OWNER: '5', SCIMCAST_STREAMS_MAX: '100' };
    const servers = await Promise.all([startServe(env), startServe(env)]);
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => call(servers[i % 2]!.base, 'POST', '/ssf/streams', POLL_STREAM, JSON_CT)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses, JSON.stringify(answers.filter((a) => a.status !== 201 && a.status !== 409).map((a) => a.text))).toEqual([...Array<number>(5).fill(201), ...Array<number>(11).fill(409)]);
    expect(await streamCount(t)).toBe(5);
  }, 180_000);
});
