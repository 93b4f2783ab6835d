import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';

/**
 * A PATCH on the enterprise extension whose value carries `schemas` (what a client sends when it
 * builds the value from the resource it read): the key is ignored and the rest applied, with add
 * and replace, with the URN as path and as a key of a path-less value. Requests and responses are
 * recorded in test/fixtures/patch-extension-schemas.json.
 */
interface Case {
  name: string;
  user: Record<string, unknown>;
  request: { method: string; path: string; body: unknown };
  response: { status: number; body: Record<string, unknown> };
}
const { cases } = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/patch-extension-schemas.json'), 'utf8')) as { cases: Case[] };

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

const t = useTestApp();

describe('PATCH of the enterprise extension with `schemas` inside the value (RFC 7644 §3.5.2.1, §3.5.2.3)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const created = await t.req('POST', '/scim/v2/Users', { schemas: [USER, ...Object.keys(c.user).filter((k) => k.startsWith('urn:'))], ...c.user });
      expect(created.statusCode, created.body).toBe(201);
      const url = c.request.path.replace('{id}', created.json().id);
      const before = (await t.req('GET', url)).json();
      const res = await t.req(c.request.method, url, c.request.body);
      expect(res.statusCode, res.body).toBe(c.response.status);
      expect(res.json()).toMatchObject(c.response.body);
      const after = (await t.req('GET', url)).json();
      if (c.response.status < 300) {
        expect(after).toEqual(res.json());
        expect(after.meta.version).not.toBe(before.meta.version);
      } else {
        expect(after).toEqual(before);
      }
    });
  }
});
