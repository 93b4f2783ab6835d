import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySet } from '../../src/events/verify.js';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';

/**
 * What a strict SCIM client checks after a write: it reads the resource back and compares it with
 * what it sent. Members come back with the sub-attributes the client sent plus the `$ref` and
 * `type` the server derives (RFC 7643 §8.7.1), and a multi-valued attribute without values is
 * absent, not `[]` (RFC 7643 §2.5). The requests and responses are data
 * (fixtures/member-round-trips.json), replayed over HTTP against a real server and database.
 */

interface Step {
  request: { method: string; path: string; body?: unknown };
  response: { status: number; body?: Record<string, unknown>; exact?: Record<string, unknown>; absent?: string[] };
  /** The id of the resource this step creates is `{{name}}` in later steps. */
  name?: string;
}
interface Fixture {
  name: string;
  env?: Record<string, string>;
  /** Users created first, by userName; each id is `{{userName}}`. */
  users?: string[];
  steps: Step[];
}

const FIXTURES = (JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/member-round-trips.json'), 'utf8')) as { fixtures: Fixture[] }).fixtures;
const SCIM = `${BASE_URL}/scim/v2`;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const EV = 'urn:ietf:params:scim:event:';

/** Every `{{name}}` in every string of `v`, replaced. */
function fill(v: unknown, names: ReadonlyMap<string, string>): unknown {
  if (typeof v === 'string')
    return v.replace(/\{\{([\w-]+)\}\}/g, (_, k: string) => {
      const id = k === 'scim' ? SCIM : names.get(k);
      if (id === undefined) throw new Error(`fixture names no ${k}`);
      return id;
    });
  if (Array.isArray(v)) return v.map((x) => fill(x, names));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, names)]));
  return v;
}

/** `Resources.0.members` → the value there, or undefined. */
function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}
/** Whether the attribute at `path` is there at all (`members: []` is there). Its parent must exist. */
function has(obj: unknown, path: string): boolean {
  const keys = path.split('.');
  const parent = keys.length === 1 ? obj : at(obj, keys.slice(0, -1).join('.'));
  if (parent === null || typeof parent !== 'object') throw new Error(`nothing at ${keys.slice(0, -1).join('.')}`);
  return Object.hasOwn(parent, keys.at(-1)!);
}

const apps = new Map<string, TestApp>();
const appFor = (env: Record<string, string> = {}) => apps.get(JSON.stringify(env))!;
beforeAll(async () => {
  const envs: Record<string, string>[] = [{}, { SCIMCAST_COMPAT_MEMBER_DISPLAY: 'true' }];
  for (const f of FIXTURES) if (f.env && !envs.some((e) => JSON.stringify(e) === JSON.stringify(f.env))) envs.push(f.env);
  await Promise.all(envs.map(async (env) => apps.set(JSON.stringify(env), await startTestApp(env))));
});
afterAll(async () => {
  await Promise.all([...apps.values()].map((t) => t.close()));
});

describe('member round trips and empty multi-valued attributes (fixtures)', () => {
  it.each(FIXTURES)('$name', async (f) => {
    const t = appFor(f.env);
    const names = new Map<string, string>();
    for (const userName of f.users ?? []) {
      const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName });
      expect(res.statusCode, res.body).toBe(201);
      names.set(userName, res.json().id);
    }
    for (const [i, step] of f.steps.entries()) {
      const req = fill(step.request, names) as Step['request'];
      const res = await t.req(req.method, `/scim/v2${req.path}`, req.body);
      const what = `step ${i}: ${req.method} ${req.path}\n${res.body}`;
      expect(res.statusCode, what).toBe(step.response.status);
      const body = res.body === '' ? undefined : res.json();
      if (step.name) names.set(step.name, body?.id ?? new URL(res.headers.location as string).pathname.split('/').at(-1));
      const expected = fill(step.response, names) as Step['response'];
      if (expected.body) expect(body, what).toMatchObject(expected.body);
      for (const [path, value] of Object.entries(expected.exact ?? {})) expect(at(body, path), `${what}\n${path}`).toEqual(value);
      for (const path of expected.absent ?? []) expect(has(body, path), `${what}\n${path} is there`).toBe(false);
    }
  });
});

describe('a document stored with empty arrays (by an earlier version, or by hand)', () => {
  it('reads back without them, by id and in a list', async () => {
    const t = appFor();
    const id = randomUUID();
    const now = new Date();
    const doc = { schemas: [USER], userName: 'rt-stored-empty', emails: [], phoneNumbers: [], x509Certificates: [] };
    await t.deps.storage.resources.insertMany([{ id, resourceType: 'User', userName: 'rt-stored-empty', externalId: null, displayName: null, active: null, doc, version: 1, created: now, lastModified: now }]);
    const got = (await t.req('GET', `/scim/v2/Users/${id}`)).json();
    expect(got).toMatchObject({ id, userName: 'rt-stored-empty' });
    for (const a of ['emails', 'phoneNumbers', 'x509Certificates']) expect(got).not.toHaveProperty(a);
    const listed = (await t.req('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "rt-stored-empty"')}`)).json().Resources[0];
    expect(listed).toEqual(got);
  });
});

describe('/Schemas declares how members.display reads', () => {
  const displayOf = async (t: TestApp) => {
    const schema = (await t.req('GET', `/scim/v2/Schemas/${GROUP}`, undefined, { auth: null })).json();
    const members = schema.attributes.find((a: { name: string }) => a.name === 'members');
    return members.subAttributes.find((a: { name: string }) => a.name === 'display');
  };

  it('by default: as the client sent it, which a client may write (immutable, like the other member sub-attributes)', async () => {
    const d = await displayOf(appFor());
    expect(d).toMatchObject({ name: 'display', type: 'string', mutability: 'immutable', returned: 'default' });
    expect(d.description).toMatch(/as the client sent it/);
  });

  it('with SCIMCAST_COMPAT_MEMBER_DISPLAY=true: filled in by the server from the member’s name', async () => {
    const t = appFor({ SCIMCAST_COMPAT_MEMBER_DISPLAY: 'true' });
    const d = await displayOf(t);
    expect(d).toMatchObject({ name: 'display', mutability: 'immutable' });
    expect(d.description).toMatch(/server fills in the member's displayName \(a Group\) or userName \(a User\)/);
    const list = (await t.req('GET', '/scim/v2/Schemas', undefined, { auth: null })).json();
    expect(list.Resources.find((s: { id: string }) => s.id === GROUP)).toEqual((await t.req('GET', `/scim/v2/Schemas/${GROUP}`, undefined, { auth: null })).json());
  });
});

describe('prov:*:full SETs carry the representation a read gives', () => {
  it('create:full and put:full: no empty members, and members without a display the client did not send', async () => {
    const t = appFor();
    const s = await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:create:full`, `${EV}prov:put:full`], resource_types: ['Group'] }, { headers: { 'content-type': 'application/json' } });
    expect(s.statusCode, s.body).toBe(201);
    const stream = s.json() as { stream_id: string; aud: string };
    const u = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'rt-set-user' })).json();
    const empty = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'rt set empty' })).json();
    const put = await t.req('PUT', `/scim/v2/Groups/${empty.id}`, { schemas: [GROUP], displayName: 'rt set empty', members: [{ value: u.id, $ref: `${SCIM}/Users/${u.id}` }] });
    expect(put.statusCode).toBe(200);
    const polled = await t.req('POST', `/ssf/streams/${stream.stream_id}/poll`, { returnImmediately: true, maxEvents: 10 }, { headers: { 'content-type': 'application/json' } });
    const jwks = (await t.req('GET', '/jwks.json', undefined, { auth: null })).json();
    const claims = await Promise.all(Object.values(polled.json().sets as Record<string, string>).map((jws) => verifySet(jws, { jwks, issuer: BASE_URL, audience: stream.aud })));
    const dataOf = (uri: string) => (claims.find((c) => Object.hasOwn(c.events, uri))?.events[uri] as { data: Record<string, unknown> } | undefined)?.data;
    const created = dataOf(`${EV}prov:create:full`);
    expect(created).toMatchObject({ id: empty.id, displayName: 'rt set empty' });
    expect(created).not.toHaveProperty('members');
    expect(dataOf(`${EV}prov:put:full`)?.members).toEqual([{ value: u.id, $ref: `${SCIM}/Users/${u.id}`, type: 'User' }]);
  });
});
