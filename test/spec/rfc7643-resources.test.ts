import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';
import { specExample } from '../helpers/spec-examples.js';

/**
 * RFC 7643 §8 examples replayed through the real HTTP path: each example resource is POSTed as a
 * client would send it (the server-owned id and meta are ignored, RFC 7643 §3.1) and every
 * client-writable attribute comes back unchanged.
 */
const t = useTestApp();

const READ_ONLY = ['id', 'meta', 'groups', 'password'];
const writable = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => !READ_ONLY.includes(k)));

describe('RFC 7643 §8 resource examples', () => {
  for (const file of ['rfc7643/8.1-minimal-user.json', 'rfc7643/8.2-full-user.json', 'rfc7643/8.3-enterprise-user.json']) {
    it(`${file}: accepted as sent, returned with server id/meta, no password, readOnly dropped`, async () => {
      const ex = specExample(file).example;
      const res = await t.req('POST', '/scim/v2/Users', ex);
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json();
      expect(body.id).not.toBe(ex.id);
      expect(body.password).toBeUndefined();
      expect(body.groups).toBeUndefined(); // readOnly: the example's groups are not memberships
      const expected = writable(ex) as Record<string, unknown>;
      const ent = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
      if (expected[ent]) {
        // manager.displayName is readOnly (RFC 7643 §4.3): ignored on input.
        const { manager, ...rest } = expected[ent] as { manager: Record<string, unknown> };
        const { displayName: _d, ...mgr } = manager;
        expected[ent] = { ...rest, manager: mgr };
      }
      expect(body).toMatchObject(expected);
      await t.req('DELETE', `/scim/v2/Users/${body.id}`);
    });
  }

  it('rfc7643/8.4-group.json: accepted once its members exist', async () => {
    const ex = specExample<{ members: { value: string; display: string }[] }>('rfc7643/8.4-group.json').example;
    const ids: string[] = [];
    for (const m of ex.members) {
      const u = await t.req('POST', '/scim/v2/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: m.display });
      ids.push(u.json().id);
    }
    // Member ids are server-assigned, so the example's values are mapped to the users just made.
    const body = { ...ex, members: ex.members.map((m, i) => ({ ...m, value: ids[i] })) };
    const res = await t.req('POST', '/scim/v2/Groups', body);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ displayName: 'Tour Guides', members: ids.map((value, i) => ({ value, display: ex.members[i]!.display, type: 'User' })) });
  });

  it('rfc7643/8.5: ServiceProviderConfig has every member of the example, with the same types', async () => {
    const ex = specExample('rfc7643/8.5-service-provider-config.json').example;
    const spc = (await t.req('GET', '/scim/v2/ServiceProviderConfig')).json() as Record<string, unknown>;
    for (const [k, v] of Object.entries(ex)) {
      if (k === 'documentationUri') continue; // optional (RFC 7643 §5)
      expect(spc, k).toHaveProperty(k);
      expect(typeof spc[k], k).toBe(typeof v);
      if (v && typeof v === 'object' && !Array.isArray(v) && k !== 'meta') expect(Object.keys(spc[k] as object).sort(), k).toEqual(Object.keys(v).sort());
    }
  });

  it('rfc7643/8.6: ResourceTypes match the example apart from the documented required flag', async () => {
    const ex = specExample<Record<string, unknown>[]>('rfc7643/8.6-resource-types.json').example;
    const list = (await t.req('GET', '/scim/v2/ResourceTypes')).json();
    for (const rt of ex) {
      const ours = list.Resources.find((r: { id: string }) => r.id === rt.id);
      const { meta: _m, schemaExtensions, ...rest } = rt as { meta: unknown; schemaExtensions?: { schema: string }[] };
      expect(ours).toMatchObject(rest);
      if (schemaExtensions) expect(ours.schemaExtensions.map((e: { schema: string }) => e.schema)).toEqual(schemaExtensions.map((e) => e.schema));
    }
  });
});
