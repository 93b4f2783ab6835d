import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { encodeQuery, expectNo5xx, expectScimClientError, fcParams, GROUP, snapshot, USER } from './support.js';

/**
 * Hostile filters (RFC 7644 §3.4.2.2). A filter arrives from any client with
 * `scim:read`, in a URL or a SearchRequest body, and becomes SQL. Whatever the text: never a 5xx,
 * an error is a SCIM 400 body, and nothing in the database changes.
 */
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

let t: TestApp;
let before: Record<string, string>;
beforeAll(async () => {
  t = await startTestApp();
  const u = (await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'bjensen', emails: [{ value: 'b@example.com', type: 'work' }] })).json();
  await t.req('POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Ops', members: [{ value: u.id }] });
  before = await snapshot(t);
});
afterAll(async () => {
  await t?.close();
});

// ---- generators: grammar-shaped filters, then the same with random damage ----

const attrPath = fc.oneof(
  fc.constantFrom(
    'userName', 'USERNAME', 'name.familyName', 'emails', 'emails.value', 'emails.type', 'meta.created', 'meta.lastModified',
    'meta.version', 'meta.resourceType', 'members.value', 'members', 'groups.value', 'active', 'id', 'externalId', 'displayName',
    'urn:ietf:params:scim:schemas:core:2.0:User:userName', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:', '__proto__', 'constructor.prototype', 'a.b.c.d', 'emails..value', '.x', 'x.',
  ),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }),
);
const compareOp = fc.oneof(fc.constantFrom('eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'EQ', 'Gt'), fc.constantFrom('==', 'eqq', 'like', '', 'pr', 'and'));
const literal = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => `"${s}"`), // raw, possibly unescaped quotes / control characters
  fc.constantFrom('true', 'false', 'null', 'True', 'NULL', '1e400', '-1e400', '1e-400', '-0', '9007199254740993', '0x10', '.5', '5.', '1_000', 'NaN', 'Infinity'),
  fc.double().map(String),
  fc.bigInt().map(String),
  fc.date({ noInvalidDate: true }).map((d) => JSON.stringify(d.toISOString())),
  fc.constantFrom('"2024-13-45T99:99:99Z"', '"+275760-09-13T00:00:00Z"', '"\\ud800"', '"\\u0000"', '"\\x41"', '"unterminated', "'single'"),
);

const filter: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(attrPath, compareOp, literal).map(([a, o, v]) => `${a} ${o} ${v}`),
    attrPath.map((a) => `${a} pr`),
    fc.tuple(tie('expr'), fc.constantFrom('and', 'or', 'AND', 'xor', ''), tie('expr')).map(([l, op, r]) => `${l} ${op} ${r}`),
    tie('expr').map((e) => `not (${e})`),
    tie('expr').map((e) => `(${e})`),
    fc.tuple(attrPath, tie('expr')).map(([a, e]) => `${a}[${e}]`),
    fc.tuple(attrPath, tie('expr'), attrPath).map(([a, e, s]) => `${a}[${e}].${s}`),
  ),
})).expr;

/** Structural damage a hostile or broken client produces: cut, spliced, duplicated, unbalanced. */
const damaged = fc.oneof(
  filter,
  fc.tuple(filter, fc.nat(), fc.nat()).map(([f, a, b]) => f.slice(0, a % (f.length + 1)) + f.slice((a % (f.length + 1)) + (b % 4))),
  fc.tuple(filter, fc.nat(), fc.constantFrom('(', ')', '[', ']', '"', '\\', ' not ', ' and ', '\u0000', '\ud800', '\u202e', '%', '\n')).map(
    ([f, at, ch]) => f.slice(0, at % (f.length + 1)) + ch + f.slice(at % (f.length + 1)),
  ),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.integer({ min: 1, max: 400 }).map((n) => '('.repeat(n) + 'userName pr' + ')'.repeat(n)),
  fc.integer({ min: 1, max: 400 }).map((n) => 'emails['.repeat(n) + 'value pr' + ']'.repeat(n)),
  fc.integer({ min: 1, max: 600 }).map((n) => Array.from({ length: n }, (_, i) => `userName eq "u${i}"`).join(' or ')),
  fc.integer({ min: 1, max: 300 }).map((n) => 'not ('.repeat(n) + 'active eq true' + ')'.repeat(n)),
);

/**
 * A filter problem is invalidFilter; characters no database could store are invalidValue; a
 * SearchRequest whose members have the wrong JSON type is invalidSyntax.
 */
async function assertHarmless(res: Awaited<ReturnType<TestApp['req']>>, context: string, allowed = ['invalidFilter', 'invalidValue']) {
  expectNo5xx(res, context);
  if (res.statusCode === 400) expect(allowed, context).toContain(res.json().scimType);
}

describe('generated filters', () => {
  it('GET ?filter= on every endpoint: never a 5xx, errors are SCIM 400s', async () => {
    await fc.assert(
      fc.asyncProperty(damaged, fc.constantFrom('/scim/v2/Users', '/scim/v2/Groups', '/scim/v2'), async (f, endpoint) => {
        const res = await t.req('GET', `${endpoint}?filter=${encodeQuery(f)}`);
        await assertHarmless(res, `GET ${endpoint} filter=${JSON.stringify(f).slice(0, 200)}`);
      }),
      fcParams(150, 3000),
    );
  });

  it('POST .search with the same filters (and non-string ones) in the body', async () => {
    const anyFilter = fc.oneof(damaged, fc.jsonValue({ maxDepth: 3 }));
    await fc.assert(
      fc.asyncProperty(anyFilter, fc.constantFrom('/scim/v2/Users/.search', '/scim/v2/.search'), async (f, url) => {
        let body: string;
        try {
          body = JSON.stringify({ schemas: [SEARCH], filter: f, sortBy: 'userName' });
        } catch {
          return; // not representable as JSON
        }
        const res = await t.req('POST', url, body, { headers: { 'content-type': 'application/scim+json' } });
        await assertHarmless(res, `POST ${url} filter=${body.slice(0, 200)}`, ['invalidFilter', 'invalidValue', 'invalidSyntax']);
      }),
      fcParams(100, 2000),
    );
  });

  it('nothing changed in the database', async () => {
    expect(await snapshot(t)).toEqual(before);
  });
});

describe('named hostile filters', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['unbalanced parenthesis', '(userName eq "a"', /position/],
    ['unknown attribute', 'nosuch eq "a"', /nosuch/],
    ['prototype key as attribute', '__proto__ eq "a"', /__proto__/],
    ['number beyond double range', 'meta.version gt 1e400', /out of range/],
    ['unpaired surrogate escape', 'userName eq "\\ud800"', /surrogate/],
    ['U+0000 escape (fast-check seed 819691049)', 'userName ew "\\u0000"', /U\+0000/],
    ['raw control character', 'userName eq "a\u0001"', /control/],
    ['SQL in a literal stays a literal', 'userName eq "x\' or 1=1 --"', /.^/],
    ['SQL as an attribute', "userName; drop table resources; -- eq \"a\"", /.*/],
    ['nesting beyond the bound', '('.repeat(40) + 'userName pr' + ')'.repeat(40), /32 levels/],
    ['too many terms', Array.from({ length: 201 }, () => 'id pr').join(' or '), /200 terms/],
    ['too long', `userName eq "${'x'.repeat(5000)}"`, /4096 characters/],
  ];
  it.each(cases)('%s', async (_name, f, detail) => {
    const res = await t.req('GET', `/scim/v2/Users?filter=${encodeQuery(f)}`);
    if (res.statusCode === 200) {
      // Only the SQL-in-a-literal case is a valid filter: it must match nothing, not everything.
      expect(res.json().totalResults).toBe(0);
      return;
    }
    expectScimClientError(res, f.slice(0, 80));
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toMatch(detail);
  });

  it('a U+0000 in the query string is a 400, not a database error', async () => {
    const res = await t.req('GET', `/scim/v2/Users?filter=${encodeQuery('userName eq "a\u0000"')}`);
    expectScimClientError(res, 'nul');
    expect(res.statusCode).toBe(400);
  });

  it('nothing changed in the database', async () => {
    expect(await snapshot(t)).toEqual(before);
  });
});
