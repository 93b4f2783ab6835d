import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * `Prefer: return=minimal|representation` (RFC 7240 §4.2) on POST, PUT and PATCH of Users and
 * Groups, over a real socket: every request and the answer it must get are recorded in
 * test/fixtures/prefer-return.json, including the answers without the preference (unchanged:
 * Group PATCH 204, User PATCH 200), an unknown value, and respond-async winning over return=.
 */
interface Case {
  name: string;
  type: 'User' | 'Group';
  request: { method: 'POST' | 'PUT' | 'PATCH'; path: string; headers: Record<string, string>; body: unknown };
  response: {
    status: number;
    /** null: the header must be absent. */
    headers: Record<string, string | null>;
    preferenceAppliedExcludes?: string;
    body: Record<string, unknown> | null;
    exactBody?: boolean;
  };
}
const { cases } = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/prefer-return.json'), 'utf8')) as { cases: Case[] };

const SCHEMA = { User: 'urn:ietf:params:scim:schemas:core:2.0:User', Group: 'urn:ietf:params:scim:schemas:core:2.0:Group' };

let t: TestApp;
let origin: string;
beforeAll(async () => {
  t = await startTestApp();
  origin = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await t?.close();
});

const fill = (v: unknown, vars: Record<string, string>): unknown =>
  typeof v === 'string'
    ? v.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m)
    : Array.isArray(v)
      ? v.map((x) => fill(x, vars))
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, vars)]))
        : v;

async function send(method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/scim+json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** For PUT and PATCH, the resource to change, created without any preference. */
async function existing(type: Case['type'], name: string) {
  const body = type === 'User' ? { schemas: [SCHEMA.User], userName: name } : { schemas: [SCHEMA.Group], displayName: name };
  const res = await send('POST', `/scim/v2/${type}s`, body);
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe('Prefer: return=minimal|representation on synchronous writes (RFC 7240 §4.2)', () => {
  cases.forEach((c, i) => {
    it(c.name, async () => {
      const name = `ret-${i}-${c.type.toLowerCase()}`;
      const id = c.request.method === 'POST' ? undefined : await existing(c.type, name);
      const res = await send(c.request.method, fill(c.request.path, { id: id ?? '' }) as string, fill(c.request.body, { name }), c.request.headers);
      const text = await res.text();
      expect(res.status, text).toBe(c.response.status);

      if (c.response.preferenceAppliedExcludes !== undefined) {
        expect(res.headers.get('preference-applied') ?? '').not.toContain(c.response.preferenceAppliedExcludes);
        expect(text).toBe('');
        return;
      }
      // The resource as stored after the write: its id, URL and version fill the placeholders.
      const createdId = id ?? (JSON.parse(text || 'null')?.id as string | undefined) ?? res.headers.get('location')!.split('/').pop()!;
      const read = await send('GET', `/scim/v2/${c.type}s/${createdId}`, undefined);
      const stored = (await read.json()) as { id: string; meta: { location: string; version: string } };
      const vars = { name, id: stored.id, location: stored.meta.location, etag: stored.meta.version };

      for (const [header, want] of Object.entries(c.response.headers)) {
        if (want === null) expect(res.headers.get(header), header).toBeNull();
        else expect(res.headers.get(header), header).toBe(fill(want, vars));
      }
      if (c.response.body === null) {
        expect(text).toBe('');
        expect(res.headers.get('content-type')).toBeNull();
      } else {
        const got = JSON.parse(text) as Record<string, unknown>;
        if (c.response.exactBody) expect(got).toEqual(fill(c.response.body, vars));
        else expect(got).toMatchObject(fill(c.response.body, vars) as Record<string, unknown>);
      }
    });
  });
});

describe('return=representation that cannot be honoured', () => {
  it('a Group PATCH whose members are more than SCIMCAST_MAX_MEMBERS_RETURNED: 204 with the ETag, no Preference-Applied, the change committed', async () => {
    const small = await startTestApp({ SCIMCAST_MAX_MEMBERS_RETURNED: '2' });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await small.req('POST', '/scim/v2/Users', { schemas: [SCHEMA.User], userName: `big-${i}` })).json().id);
      const g = (await small.req('POST', '/scim/v2/Groups', { schemas: [SCHEMA.Group], displayName: 'big', members: ids.map((value) => ({ value })) })).json();
      const patch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'bigger' }] };
      const res = await small.req('PATCH', `/scim/v2/Groups/${g.id}`, patch, { headers: { prefer: 'return=representation' } });
      expect(res.statusCode, res.body).toBe(204);
      expect(res.headers['preference-applied']).toBeUndefined();
      const after = (await small.req('GET', `/scim/v2/Groups/${g.id}?excludedAttributes=members`)).json();
      expect(after.displayName).toBe('bigger');
      expect(res.headers.etag).toBe(after.meta.version);
    } finally {
      await small.close();
    }
  });
});
