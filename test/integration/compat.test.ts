import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * What Entra ID and Okta really send, replayed over HTTP. Each coercion is on by
 * default, off under SCIMCAST_STRICT, and switchable on its own (SCIMCAST_COMPAT_*).
 * Request shapes: Microsoft Learn, "Tutorial: Develop and plan provisioning for a SCIM endpoint"
 * and "Known issues and resolutions with SCIM 2.0 protocol compliance" (Entra ID); Okta developer
 * docs, "SCIM 2.0 protocol reference" (Okta).
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let lenient: TestApp;
let strict: TestApp;
let strictButOpCase: TestApp;
let lenientButMembers: TestApp;
beforeAll(async () => {
  [lenient, strict, strictButOpCase, lenientButMembers] = await Promise.all([
    startTestApp(),
    startTestApp({ SCIMCAST_STRICT: 'true' }),
    startTestApp({ SCIMCAST_STRICT: 'true', SCIMCAST_COMPAT_OP_CASE: 'true' }),
    startTestApp({ SCIMCAST_COMPAT_MEMBER_VALUE_REMOVE: 'false' }),
  ]);
});
afterAll(async () => {
  await Promise.all([lenient, strict, strictButOpCase, lenientButMembers].map((t) => t?.close()));
});

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

interface Fixture {
  name: string;
  /** The SCIMCAST_COMPAT_* switch that governs it. */
  env: string;
  /** Creates what the request needs; returns the path to PATCH (or POST). */
  setup: (t: TestApp) => Promise<{ method: string; url: string; body: unknown; check: (t: TestApp) => Promise<void> }>;
  strictError: string;
}

async function user(t: TestApp, userName: string, extra: Record<string, unknown> = {}) {
  const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName, ...extra });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string };
}

const FIXTURES: Fixture[] = [
  {
    name: 'Entra ID: string booleans ("False") in a PATCH value',
    env: 'SCIMCAST_COMPAT_STRING_BOOLEANS',
    strictError: 'invalidValue',
    async setup(t) {
      const u = await user(t, 'sb-user', { active: true });
      return {
        method: 'PATCH',
        url: `/scim/v2/Users/${u.id}`,
        body: patch({ op: 'replace', path: 'active', value: 'False' }),
        check: async (tt) => expect((await tt.req('GET', `/scim/v2/Users/${u.id}`)).json().active).toBe(false),
      };
    },
  },
  {
    name: 'Entra ID: string booleans ("True") in a POST body',
    env: 'SCIMCAST_COMPAT_STRING_BOOLEANS',
    strictError: 'invalidValue',
    async setup() {
      return {
        method: 'POST',
        url: '/scim/v2/Users',
        body: { schemas: [USER, ENT], userName: 'sb-post', active: 'True', emails: [{ primary: 'True', type: 'work', value: 'sb@example.com' }] },
        check: async (tt) => {
          const got = (await tt.req('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "sb-post"')}`)).json().Resources[0];
          expect(got.active).toBe(true);
          expect(got.emails[0].primary).toBe(true);
        },
      };
    },
  },
  {
    name: 'Entra ID: capitalised ops ("Add", "Replace")',
    env: 'SCIMCAST_COMPAT_OP_CASE',
    strictError: 'invalidSyntax',
    async setup(t) {
      const u = await user(t, 'oc-user');
      return {
        method: 'PATCH',
        url: `/scim/v2/Users/${u.id}`,
        body: patch({ op: 'Add', path: 'title', value: 'Engineer' }, { op: 'Replace', path: 'displayName', value: 'Oc User' }),
        check: async (tt) => expect((await tt.req('GET', `/scim/v2/Users/${u.id}`)).json()).toMatchObject({ title: 'Engineer', displayName: 'Oc User' }),
      };
    },
  },
  {
    name: 'Entra ID: member removal as a value array without a filtered path removes exactly those members',
    env: 'SCIMCAST_COMPAT_MEMBER_VALUE_REMOVE',
    strictError: 'invalidSyntax',
    async setup(t) {
      const [a, b, c] = [await user(t, 'mv-a'), await user(t, 'mv-b'), await user(t, 'mv-c')];
      const g = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'MV', members: [a, b, c].map((x) => ({ value: x.id })) })).json();
      return {
        method: 'PATCH',
        url: `/scim/v2/Groups/${g.id}`,
        body: patch({ op: 'Remove', path: 'members', value: [{ value: a.id }, { value: c.id }] }),
        check: async (tt) => expect((await tt.req('GET', `/scim/v2/Groups/${g.id}`)).json().members.map((m: { value: string }) => m.value)).toEqual([b.id]),
      };
    },
  },
  {
    name: 'Entra ID: the enterprise manager path with a bare string value',
    env: 'SCIMCAST_COMPAT_MANAGER_STRING',
    strictError: 'invalidValue',
    async setup(t) {
      const [u, boss] = [await user(t, 'mg-user'), await user(t, 'mg-boss')];
      return {
        method: 'PATCH',
        url: `/scim/v2/Users/${u.id}`,
        body: patch({ op: 'add', path: `${ENT}:manager`, value: boss.id }),
        check: async (tt) => expect((await tt.req('GET', `/scim/v2/Users/${u.id}`)).json()[ENT].manager).toEqual({ value: boss.id }),
      };
    },
  },
  {
    name: 'Entra ID / Okta: dotted keys inside a path-less replace value',
    env: 'SCIMCAST_COMPAT_DOTTED_KEYS',
    strictError: 'invalidPath',
    async setup(t) {
      const u = await user(t, 'dk-user', { name: { givenName: 'A', familyName: 'B', middleName: 'M' } });
      return {
        method: 'PATCH',
        url: `/scim/v2/Users/${u.id}`,
        body: patch({ op: 'replace', value: { 'name.givenName': 'Jo', 'name.familyName': 'Doe', [`${ENT}:department`]: 'Sales' } }),
        check: async (tt) => {
          const got = (await tt.req('GET', `/scim/v2/Users/${u.id}`)).json();
          expect(got.name).toEqual({ givenName: 'Jo', familyName: 'Doe', middleName: 'M' });
          expect(got[ENT]).toEqual({ department: 'Sales' });
          expect(got.schemas).toContain(ENT);
        },
      };
    },
  },
  {
    name: 'Entra ID: filtered PATCH on a multi-valued attribute that is still absent',
    env: 'SCIMCAST_COMPAT_ABSENT_FILTER_TARGET',
    strictError: 'noTarget',
    async setup(t) {
      const u = await user(t, 'af-user');
      return {
        method: 'PATCH',
        url: `/scim/v2/Users/${u.id}`,
        body: patch({ op: 'add', path: 'emails[type eq "work"].value', value: 'af@example.com' }),
        check: async (tt) => expect((await tt.req('GET', `/scim/v2/Users/${u.id}`)).json().emails).toEqual([{ type: 'work', value: 'af@example.com' }]),
      };
    },
  },
];

describe('client compatibility', () => {
  for (const f of FIXTURES) {
    it(`${f.name}: accepted by default`, async () => {
      const r = await f.setup(lenient);
      const res = await lenient.req(r.method, r.url, r.body);
      expect(res.statusCode, res.body).toBeLessThan(300);
      await r.check(lenient);
    });

    it(`${f.name}: refused with ${f.strictError} under SCIMCAST_STRICT, nothing changed`, async () => {
      const r = await f.setup(strict);
      // Strict mode also refuses "Remove"; send the lower-case op so only the switch under test matters.
      const body =
        f.env === 'SCIMCAST_COMPAT_OP_CASE' ? r.body : JSON.parse(JSON.stringify(r.body).replace(/"op":"(\w+)"/g, (_m, op: string) => `"op":"${op.toLowerCase()}"`));
      const before = r.method === 'PATCH' ? (await strict.req('GET', r.url)).json() : undefined;
      const res = await strict.req(r.method, r.url, body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({ status: '400', scimType: f.strictError, detail: expect.any(String) });
      if (before) expect((await strict.req('GET', r.url)).json()).toEqual(before);
    });
  }

  it('one switch can be turned on in strict mode (SCIMCAST_COMPAT_OP_CASE=true)', async () => {
    const u = await user(strictButOpCase, 'one-on');
    const ok = await strictButOpCase.req('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'Replace', path: 'title', value: 'x' }));
    expect(ok.statusCode).toBe(200);
    const no = await strictButOpCase.req('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'replace', path: 'active', value: 'False' }));
    expect(no.json()).toMatchObject({ status: '400', scimType: 'invalidValue' });
  });

  it('one switch can be turned off in lenient mode (SCIMCAST_COMPAT_MEMBER_VALUE_REMOVE=false): the group is never emptied', async () => {
    const t = lenientButMembers;
    const [a, b] = [await user(t, 'off-a'), await user(t, 'off-b')];
    const g = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Off', members: [{ value: a.id }, { value: b.id }] })).json();
    const res = await t.req('PATCH', `/scim/v2/Groups/${g.id}`, patch({ op: 'Remove', path: 'members', value: [{ value: a.id }] }));
    expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
    expect((await t.req('GET', `/scim/v2/Groups/${g.id}`)).json().members).toHaveLength(2);
    // The other coercions stay on.
    const ok = await t.req('PATCH', `/scim/v2/Users/${a.id}`, patch({ op: 'Replace', path: 'active', value: 'False' }));
    expect(ok.statusCode).toBe(200);
  });

  it('Entra ID: the combined user update Entra sends in one request', async () => {
    const [u, boss] = [await user(lenient, 'entra-combined', { active: true }), await user(lenient, 'entra-boss')];
    const res = await lenient.req(
      'PATCH',
      `/scim/v2/Users/${u.id}`,
      patch(
        { op: 'Replace', path: 'displayName', value: 'Entra Combined' },
        { op: 'Add', path: 'emails[type eq "work"].value', value: 'combined@example.com' },
        { op: 'Replace', path: 'name.givenName', value: 'En' },
        { op: 'Add', path: `${ENT}:manager`, value: boss.id },
        { op: 'Replace', path: 'active', value: 'False' },
      ),
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      displayName: 'Entra Combined',
      emails: [{ type: 'work', value: 'combined@example.com' }],
      name: { givenName: 'En' },
      active: false,
      [ENT]: { manager: { value: boss.id } },
    });
  });

  it('Okta: path-less replace that echoes id and displayName, then members by filter', async () => {
    const a = await user(lenient, 'okta-a');
    const g = (await lenient.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Okta', members: [{ value: a.id, display: 'okta-a' }] })).json();
    const rename = await lenient.req('PATCH', `/scim/v2/Groups/${g.id}`, patch({ op: 'replace', value: { id: g.id, displayName: 'Okta Renamed' } }));
    expect(rename.statusCode, rename.body).toBe(204);
    const rm = await lenient.req('PATCH', `/scim/v2/Groups/${g.id}`, patch({ op: 'remove', path: `members[value eq "${a.id}"]` }));
    expect(rm.statusCode).toBe(204);
    const got = (await lenient.req('GET', `/scim/v2/Groups/${g.id}`)).json();
    expect(got).toMatchObject({ displayName: 'Okta Renamed' });
    expect(got).not.toHaveProperty('members');
  });
});

describe('compat configuration', () => {
  const keys = ['stringBooleans', 'opCase', 'memberValueRemove', 'managerString', 'dottedKeys', 'absentMultiValueFilter'] as const;
  it('every switch follows SCIMCAST_STRICT unless set on its own', () => {
    const on = loadConfig({}).compat;
    const off = loadConfig({ SCIMCAST_STRICT: 'true' }).compat;
    for (const k of keys) {
      expect(on[k], k).toBe(true);
      expect(off[k], k).toBe(false);
    }
    expect(loadConfig({ SCIMCAST_COMPAT_DOTTED_KEYS: 'false' }).compat).toMatchObject({ dottedKeys: false, opCase: true });
    expect(loadConfig({ SCIMCAST_STRICT: 'true', SCIMCAST_COMPAT_MANAGER_STRING: 'true' }).compat).toMatchObject({ managerString: true, opCase: false });
    expect(() => loadConfig({ SCIMCAST_COMPAT_OP_CASE: 'maybe' })).toThrow(/SCIMCAST_COMPAT_OP_CASE/);
  });
  it('SCIMCAST_COMPAT_MEMBER_DISPLAY is off unless set, strict or not', () => {
    expect(loadConfig({}).compat.memberDisplay).toBe(false);
    expect(loadConfig({ SCIMCAST_STRICT: 'true' }).compat.memberDisplay).toBe(false);
    expect(loadConfig({ SCIMCAST_COMPAT_MEMBER_DISPLAY: 'true' }).compat.memberDisplay).toBe(true);
    expect(loadConfig({ SCIMCAST_STRICT: 'true', SCIMCAST_COMPAT_MEMBER_DISPLAY: 'true' }).compat.memberDisplay).toBe(true);
    expect(() => loadConfig({ SCIMCAST_COMPAT_MEMBER_DISPLAY: 'sometimes' })).toThrow(/SCIMCAST_COMPAT_MEMBER_DISPLAY/);
  });
});
