import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * Client compatibility, switch by switch: each recorded Entra ID / Okta request shape is replayed over HTTP
 * against a server with every coercion on (accepted) and against one with only that coercion
 * turned off (SCIMCAST_COMPAT_<X>=false: RFC 7644 behaviour, a SCIM 400 with the expected
 * scimType, nothing changed). test/integration/compat.test.ts replays the same shapes against
 * SCIMCAST_STRICT with every switch off; here strict mode also refuses the shapes as sent.
 * Sources: Microsoft Learn, "Known issues and resolutions with SCIM 2.0 protocol compliance of the
 * Microsoft Entra user provisioning service"; Okta developer docs, "SCIM 2.0 protocol reference".
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

interface Request {
  method: 'POST' | 'PATCH';
  url: string;
  body: unknown;
  /** What the accepted request must have done. */
  check: (t: TestApp) => Promise<void>;
  /** What must not have changed when it is refused: the resources to read again. */
  watch: string[];
}

interface Switch {
  env: string;
  shape: string;
  scimType: string;
  setup: (t: TestApp, tag: string) => Promise<Request>;
}

async function user(t: TestApp, userName: string, extra: Record<string, unknown> = {}) {
  const res = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName, ...extra });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string };
}

const read = async (t: TestApp, url: string) => (await t.req('GET', url)).json();

const SWITCHES: Switch[] = [
  {
    env: 'SCIMCAST_COMPAT_STRING_BOOLEANS',
    shape: 'Entra ID: {"op":"Replace","path":"active","value":"False"}',
    scimType: 'invalidValue',
    async setup(t, tag) {
      const u = await user(t, `sb-${tag}`, { active: true });
      const url = `/scim/v2/Users/${u.id}`;
      return {
        method: 'PATCH',
        url,
        body: patch({ op: 'Replace', path: 'active', value: 'False' }),
        check: async (tt) => expect((await read(tt, url)).active).toBe(false),
        watch: [url],
      };
    },
  },
  {
    env: 'SCIMCAST_COMPAT_STRING_BOOLEANS',
    shape: 'Entra ID: POST /Users with "active":"True" and "primary":"True"',
    scimType: 'invalidValue',
    async setup(_t, tag) {
      const list = `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "sbp-${tag}"`)}`;
      return {
        method: 'POST',
        url: '/scim/v2/Users',
        body: { schemas: [USER], userName: `sbp-${tag}`, active: 'True', emails: [{ primary: 'True', type: 'work', value: `sbp-${tag}@example.com` }] },
        check: async (tt) => expect((await read(tt, list)).Resources[0]).toMatchObject({ active: true, emails: [{ primary: true }] }),
        watch: [list],
      };
    },
  },
  {
    env: 'SCIMCAST_COMPAT_OP_CASE',
    shape: 'Entra ID: {"op":"Add",…} and {"op":"Replace",…}',
    scimType: 'invalidSyntax',
    async setup(t, tag) {
      const u = await user(t, `oc-${tag}`);
      const url = `/scim/v2/Users/${u.id}`;
      return {
        method: 'PATCH',
        url,
        body: patch({ op: 'Add', path: 'title', value: 'Engineer' }, { op: 'Replace', path: 'displayName', value: 'Oc User' }),
        check: async (tt) => expect(await read(tt, url)).toMatchObject({ title: 'Engineer', displayName: 'Oc User' }),
        watch: [url],
      };
    },
  },
  {
    env: 'SCIMCAST_COMPAT_MEMBER_VALUE_REMOVE',
    shape: 'Entra ID: {"op":"Remove","path":"members","value":[{"value":"<id>"}]}',
    scimType: 'invalidSyntax',
    async setup(t, tag) {
      const [a, b, c] = [await user(t, `mv-a-${tag}`), await user(t, `mv-b-${tag}`), await user(t, `mv-c-${tag}`)];
      const g = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: `MV ${tag}`, members: [a, b, c].map((x) => ({ value: x.id })) })).json();
      const url = `/scim/v2/Groups/${g.id}`;
      return {
        method: 'PATCH',
        url,
        body: patch({ op: 'Remove', path: 'members', value: [{ value: a.id }, { value: c.id }] }),
        // Exactly those members go; the group is never emptied.
        check: async (tt) => expect((await read(tt, url)).members.map((m: { value: string }) => m.value)).toEqual([b.id]),
        watch: [url],
      };
    },
  },
  {
    env: 'SCIMCAST_COMPAT_MANAGER_STRING',
    shape: `Entra ID: {"op":"Add","path":"${ENT}:manager","value":"<manager id>"}`,
    scimType: 'invalidValue',
    async setup(t, tag) {
      const [u, boss] = [await user(t, `mg-${tag}`), await user(t, `mg-boss-${tag}`)];
      const url = `/scim/v2/Users/${u.id}`;
      return {
        method: 'PATCH',
        url,
        body: patch({ op: 'Add', path: `${ENT}:manager`, value: boss.id }),
        check: async (tt) => expect((await read(tt, url))[ENT].manager).toEqual({ value: boss.id }),
        watch: [url],
      };
    },
  },
  {
    env: 'SCIMCAST_COMPAT_DOTTED_KEYS',
    shape: 'Entra ID / Okta: {"op":"replace","value":{"name.givenName":…,"<enterprise URN>:department":…}}',
    scimType: 'invalidPath',
    async setup(t, tag) {
      const u = await user(t, `dk-${tag}`, { name: { givenName: 'A', familyName: 'B', middleName: 'M' } });
      const url = `/scim/v2/Users/${u.id}`;
      return {
        method: 'PATCH',
        url,
        body: patch({ op: 'replace', value: { 'name.givenName': 'Jo', 'name.familyName': 'Doe', [`${ENT}:department`]: 'Sales' } }),
        check: async (tt) => {
          const got = await read(tt, url);
          expect(got.name).toEqual({ givenName: 'Jo', familyName: 'Doe', middleName: 'M' });
          expect(got[ENT]).toEqual({ department: 'Sales' });
        },
        watch: [url],
      };
    },
  },
  {
    env: 'SCIMCAST_COMPAT_ABSENT_FILTER_TARGET',
    shape: 'Entra ID: {"op":"Add","path":"emails[type eq \\"work\\"].value","value":…} on a user without emails',
    scimType: 'noTarget',
    async setup(t, tag) {
      const u = await user(t, `af-${tag}`);
      const url = `/scim/v2/Users/${u.id}`;
      return {
        method: 'PATCH',
        url,
        body: patch({ op: 'Add', path: 'emails[type eq "work"].value', value: `af-${tag}@example.com` }),
        check: async (tt) => expect((await read(tt, url)).emails).toEqual([{ type: 'work', value: `af-${tag}@example.com` }]),
        watch: [url],
      };
    },
  },
];

const ENVS = [...new Set(SWITCHES.map((s) => s.env))];
let lenient: TestApp;
let strict: TestApp;
const oneOff = new Map<string, TestApp>();

beforeAll(async () => {
  const apps = await Promise.all([startTestApp(), startTestApp({ SCIMCAST_STRICT: 'true' }), ...ENVS.map((env) => startTestApp({ [env]: 'false' }))]);
  [lenient, strict] = apps as [TestApp, TestApp];
  ENVS.forEach((env, i) => oneOff.set(env, apps[i + 2]!));
});
afterAll(async () => {
  await Promise.all([lenient, strict, ...oneOff.values()].map((t) => t?.close()));
});

async function refused(t: TestApp, r: Request, scimType: string | undefined) {
  const before = await Promise.all(r.watch.map((u) => read(t, u)));
  const res = await t.req(r.method, r.url, r.body);
  expect(res.statusCode, res.body).toBe(400);
  expect(res.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', detail: expect.any(String) });
  if (scimType) expect(res.json().scimType).toBe(scimType);
  expect(await Promise.all(r.watch.map((u) => read(t, u)))).toEqual(before);
}

describe('each client-compat switch on its own', () => {
  SWITCHES.forEach((s, i) => {
    describe(s.shape, () => {
      it('accepted with every switch on (the default)', async () => {
        const r = await s.setup(lenient, `on${i}`);
        const res = await lenient.req(r.method, r.url, r.body);
        expect(res.statusCode, res.body).toBeLessThan(300);
        await r.check(lenient);
      });

      it(`${s.env}=false alone: 400 ${s.scimType}, nothing changed`, async () => {
        const t = oneOff.get(s.env)!;
        await refused(t, await s.setup(t, `off${i}`), s.scimType);
      });

      it('SCIMCAST_STRICT: refused as sent, nothing changed', async () => {
        // As sent, the capitalised op is refused first (invalidSyntax) where the shape has one.
        await refused(strict, await s.setup(strict, `strict${i}`), undefined);
      });
    });
  });

  it('with one switch off, the others stay on', async () => {
    const t = oneOff.get('SCIMCAST_COMPAT_OP_CASE')!;
    const u = await user(t, 'others-on', { active: true });
    const res = await t.req('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'replace', path: 'active', value: 'False' }, { op: 'replace', value: { 'name.givenName': 'Jo' } }));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ active: false, name: { givenName: 'Jo' } });
  });
});

describe('remove members[value eq "<id>"] naming no member (RFC 7644 §3.5.2.2; §3.12 noTarget: "a filter that yields no match")', () => {
  async function setup(t: TestApp, tag: string) {
    const [a, outsider] = [await user(t, `nm-a-${tag}`), await user(t, `nm-out-${tag}`)];
    const g = (await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: `NM ${tag}`, members: [{ value: a.id }] })).json();
    return { a, outsider, url: `/scim/v2/Groups/${g.id}` };
  }
  const rm = (id: string) => patch({ op: 'remove', path: `members[value eq "${id}"]` });

  it('strict: 400 noTarget for a user who is not a member, an unknown id and a malformed id; nothing changed', async () => {
    const { a, outsider, url } = await setup(strict, 's');
    for (const id of [outsider.id, '6a2b4c1e-0000-4000-8000-000000000000', 'not-a-uuid']) {
      await refused(strict, { method: 'PATCH', url, body: rm(id), check: async () => {}, watch: [url] }, 'noTarget');
    }
    expect((await read(strict, url)).members.map((m: { value: string }) => m.value)).toEqual([a.id]);
  });

  it('strict: a filter that matches one of its ids removes it; the same removal again is noTarget', async () => {
    const { a, outsider, url } = await setup(strict, 's2');
    const body = patch({ op: 'remove', path: `members[value eq "${outsider.id}" or value eq "${a.id}"]` });
    expect((await strict.req('PATCH', url, body)).statusCode).toBe(204);
    expect(await read(strict, url)).not.toHaveProperty('members');
    await refused(strict, { method: 'PATCH', url, body: rm(a.id), check: async () => {}, watch: [url] }, 'noTarget');
  });

  it('strict: removing a member added earlier in the same PATCH is a match', async () => {
    const { a, outsider, url } = await setup(strict, 's3');
    const res = await strict.req('PATCH', url, patch({ op: 'add', path: 'members', value: [{ value: outsider.id }] }, { op: 'remove', path: `members[value eq "${outsider.id}"]` }));
    expect(res.statusCode, res.body).toBe(204);
    expect((await read(strict, url)).members.map((m: { value: string }) => m.value)).toEqual([a.id]);
  });

  it('lenient (the default): 204, idempotent, nothing changed and the version kept', async () => {
    const { a, outsider, url } = await setup(lenient, 'l');
    const before = await read(lenient, url);
    for (const id of [outsider.id, 'not-a-uuid']) {
      const res = await lenient.req('PATCH', url, rm(id));
      expect(res.statusCode, res.body).toBe(204);
      expect(res.headers.etag).toBe(before.meta.version);
    }
    expect(await read(lenient, url)).toEqual(before);
    expect(before.members.map((m: { value: string }) => m.value)).toEqual([a.id]);
  });
});

describe('SCIMCAST_COMPAT_CORE_SPC: a ServiceProviderConfig with RFC 7643 §5 attributes only', () => {
  const spcOf = async (t: TestApp) => (await t.req('GET', '/scim/v2/ServiceProviderConfig', undefined, { auth: null })).json();

  it('off by default and under SCIMCAST_STRICT (it is no coercion): RFC 9865 pagination and RFC 9967 securityEvents advertised', async () => {
    for (const t of [lenient, strict]) {
      const spc = await spcOf(t);
      expect(spc.pagination).toMatchObject({ cursor: true, index: true });
      expect(spc.securityEvents).toMatchObject({ asyncRequest: 'request' });
    }
  });

  it('=true: neither is advertised, and cursor paging and respond-async still work', async () => {
    const t = await startTestApp({ SCIMCAST_COMPAT_CORE_SPC: 'true' });
    try {
      const spc = await spcOf(t);
      expect(spc).not.toHaveProperty('pagination');
      expect(spc).not.toHaveProperty('securityEvents');
      await user(t, 'core-spc-a');
      await user(t, 'core-spc-a2');
      const page = await t.req('GET', '/scim/v2/Users?cursor&count=1');
      expect(page.statusCode, page.body).toBe(200);
      expect(page.json().nextCursor).toEqual(expect.any(String));
      const queued = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'core-spc-b' }, { headers: { prefer: 'respond-async' } });
      expect(queued.statusCode, queued.body).toBe(202);
    } finally {
      await t.close();
    }
  });
});
