import { describe, expect, it } from 'vitest';
import { ScimError } from '../../../../src/core/errors.js';
import { applyPatch, PATCH_OP_URN, type MemberPatch, type PatchCompat } from '../../../../src/scim/patch/apply.js';
import { GROUP_URN, USER_URN as U, type ResourceTypeName } from '../../../../src/scim/schemas/index.js';
import { cmp, ENTERPRISE as E } from '../filter/fixtures.js';
import { errorOf } from '../../../helpers/errors.js';

type Obj = Record<string, unknown>;

const STRICT: PatchCompat = { opCase: false, memberValueRemove: false, managerString: false, dottedKeys: false, absentMultiValueFilter: false };
const LENIENT: PatchCompat = { opCase: true, memberValueRemove: true, managerString: true, dottedKeys: true, absentMultiValueFilter: true };
const only = (flag: keyof PatchCompat): PatchCompat => ({ ...STRICT, [flag]: true });

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP_URN], Operations });
const user = (extra: Obj = {}): Obj => ({ schemas: [U], userName: 'bjensen', ...extra });
const group = (extra: Obj = {}): Obj => ({ schemas: [GROUP_URN], displayName: 'Tour Guides', ...extra });

const BABS = '2819c223-7f76-453a-919d-413861904646';
const JAMES = '08e1d05d-121c-4561-8b96-473d93df9210';
const MANAGER = '26118915-6090-4610-87e4-49d8ca9f808d';
const member = (id: string, display: string) => ({ display, $ref: `https://example.com/v2/Users/${id}`, value: id });

const WORK = { value: 'bjensen@example.com', type: 'work', primary: true };
const HOME = { value: 'babs@jensen.org', type: 'home' };
const WITH_EMAILS = user({ emails: [WORK, HOME] });
const NO_MEMBERS: MemberPatch = { add: [], remove: [], removeAll: false, removeWhere: [] };


/** Freezes the input so a mutation of the stored document throws (applyPatch must deep-copy). */
function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

interface DocRow {
  name: string;
  type?: ResourceTypeName;
  doc: Obj;
  body: unknown;
  compat?: PatchCompat;
  expected: Obj;
  /** Checked when given. */
  attributes?: string[];
}

function runDocRows(rows: DocRow[]) {
  it.each(rows)('$name', ({ type = 'User', doc, body, compat = STRICT, expected, attributes }) => {
    const result = applyPatch(type, deepFreeze(structuredClone(doc)), body, compat);
    expect(result.doc).toEqual(expected);
    expect(result.members).toEqual(NO_MEMBERS);
    if (attributes) expect(result.attributes).toEqual(attributes);
  });
}

interface ErrorRow {
  name: string;
  type?: ResourceTypeName;
  doc?: Obj;
  body: unknown;
  compat?: PatchCompat;
  scimType: string;
  detail?: RegExp;
}

function runErrorRows(rows: ErrorRow[]) {
  it.each(rows)('$name → $scimType', ({ type = 'User', doc = WITH_EMAILS, body, compat = STRICT, scimType, detail }) => {
    const e = errorOf(() => applyPatch(type, doc, body, compat));
    expect([e.status, e.scimType]).toEqual([400, scimType]);
    if (detail) expect(e.detail).toMatch(detail);
  });
}

describe('applyPatch: RFC 7644 §3.5.2 examples', () => {
  const ADDRESS = {
    type: 'work',
    streetAddress: '911 Universal City Plaza',
    locality: 'Hollywood',
    region: 'CA',
    postalCode: '91608',
    country: 'US',
    formatted: '911 Universal City Plaza\nHollywood, CA 91608 US',
    primary: true,
  };
  runDocRows([
    {
      name: '§3.5.2.1 add without path: emails and nickname',
      doc: WITH_EMAILS,
      body: patch({ op: 'add', value: { emails: [{ value: 'babs@jensen.org', type: 'home' }, { value: 'b2@jensen.org', type: 'other' }], nickname: 'Babs' } }),
      expected: user({ emails: [WORK, HOME, { value: 'b2@jensen.org', type: 'other' }], nickName: 'Babs' }),
      attributes: ['emails', 'nickName'],
    },
    {
      name: '§3.5.2.2 remove emails[type eq "work" and value ew "example.com"]',
      doc: WITH_EMAILS,
      body: patch({ op: 'remove', path: 'emails[type eq "work" and value ew "example.com"]' }),
      expected: user({ emails: [HOME] }),
      attributes: ['emails'],
    },
    {
      name: '§3.5.2.3 replace addresses[type eq "work"] (the whole value)',
      doc: user({ addresses: [{ type: 'work', streetAddress: 'old', country: 'CA' }, { type: 'home', locality: 'Home', primary: true }] }),
      body: patch({ op: 'replace', path: 'addresses[type eq "work"]', value: ADDRESS }),
      expected: user({ addresses: [ADDRESS, { type: 'home', locality: 'Home' }] }),
    },
    {
      name: '§3.5.2.3 replace addresses[type eq "work"].streetAddress',
      doc: user({ addresses: [ADDRESS] }),
      body: patch({ op: 'replace', path: 'addresses[type eq "work"].streetAddress', value: '1010 Broadway Ave' }),
      expected: user({ addresses: [{ ...ADDRESS, streetAddress: '1010 Broadway Ave' }] }),
    },
    {
      name: '§3.5.2.3 replace without path: emails and nickname',
      doc: user({ emails: [{ value: 'old@example.com', type: 'work' }], nickName: 'B' }),
      body: patch({ op: 'replace', value: { emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }, { value: 'babs@jensen.org', type: 'home' }], nickname: 'Babs' } }),
      expected: user({ emails: [WORK, HOME], nickName: 'Babs' }),
    },
  ]);

  const members = (body: unknown) => applyPatch('Group', deepFreeze(group()), body, STRICT);
  it('§3.5.2.1 add members', () => {
    const r = members(patch({ op: 'add', path: 'members', value: [member(BABS, 'Babs Jensen')] }));
    expect(r).toEqual({ doc: group(), members: { ...NO_MEMBERS, add: [BABS], displays: new Map([[BABS, 'Babs Jensen']]) }, attributes: ['members'] });
  });
  it('§3.5.2.2 remove one member', () => {
    expect(members(patch({ op: 'remove', path: `members[value eq "${BABS}"]` })).members).toEqual({ ...NO_MEMBERS, remove: [BABS] });
  });
  it('§3.5.2.2 remove all members', () => {
    expect(members(patch({ op: 'remove', path: 'members' })).members).toEqual({ ...NO_MEMBERS, removeAll: true });
  });
  it('§3.5.2.2 remove one member and add another (the RFC writes `eq"…"` without a space)', () => {
    const r = members(patch({ op: 'remove', path: `members[value eq"${BABS}"]` }, { op: 'add', path: 'members', value: [member(JAMES, 'James Smith')] }));
    expect(r.members).toEqual({ ...NO_MEMBERS, remove: [BABS], add: [JAMES], displays: new Map([[JAMES, 'James Smith']]) });
  });
  it('§3.5.2.2 remove all members, then add two', () => {
    const r = members(patch({ op: 'remove', path: 'members' }, { op: 'add', path: 'members', value: [member(BABS, 'Babs Jensen'), member(JAMES, 'James Smith')] }));
    expect(r.members).toEqual({ ...NO_MEMBERS, removeAll: true, add: [BABS, JAMES], displays: new Map([[BABS, 'Babs Jensen'], [JAMES, 'James Smith']]) });
  });
  it('§3.5.2.3 replace members', () => {
    const r = members(patch({ op: 'replace', path: 'members', value: [member(BABS, 'Babs Jensen'), member(JAMES, 'James Smith')] }));
    expect(r.members).toEqual({ ...NO_MEMBERS, replaceWith: [BABS, JAMES], displays: new Map([[BABS, 'Babs Jensen'], [JAMES, 'James Smith']]) });
  });
});

describe('applyPatch: path forms', () => {
  const NAME = { givenName: 'Barbara', familyName: 'Jensen' };
  runDocRows([
    // attribute
    { name: 'replace a simple attribute', doc: user({ title: 'A' }), body: patch({ op: 'replace', path: 'title', value: 'B' }), expected: user({ title: 'B' }), attributes: ['title'] },
    { name: 'add an unassigned simple attribute', doc: user(), body: patch({ op: 'add', path: 'title', value: 'B' }), expected: user({ title: 'B' }) },
    { name: 'attribute names are case-insensitive, written canonically', doc: user({ title: 'A' }), body: patch({ op: 'replace', path: 'TITLE', value: 'B' }), expected: user({ title: 'B' }) },
    { name: 'replace with null unassigns (RFC 7643 §2.5)', doc: user({ title: 'A' }), body: patch({ op: 'replace', path: 'title', value: null }), expected: user() },
    { name: 'remove an attribute', doc: user({ title: 'A' }), body: patch({ op: 'remove', path: 'title' }), expected: user(), attributes: ['title'] },
    { name: 'remove an unassigned attribute is no change', doc: user(), body: patch({ op: 'remove', path: 'nickName' }), expected: user(), attributes: [] },
    { name: 'externalId (common attribute) is writable', doc: user(), body: patch({ op: 'add', path: 'externalId', value: 'x1' }), expected: user({ externalId: 'x1' }) },
    { name: 'core-URN-qualified path', doc: user(), body: patch({ op: 'replace', path: `${U}:displayName`, value: 'Babs' }), expected: user({ displayName: 'Babs' }) },
    { name: 'the value is not type-checked here (parseResourceInput does it)', doc: user(), body: patch({ op: 'replace', path: 'active', value: 'False' }), expected: user({ active: 'False' }) },
    // complex attribute and sub-attribute
    { name: 'replace a sub-attribute keeps the others', doc: user({ name: NAME }), body: patch({ op: 'replace', path: 'name.familyName', value: 'Doe' }), expected: user({ name: { ...NAME, familyName: 'Doe' } }) },
    { name: 'add a sub-attribute of an unassigned complex', doc: user(), body: patch({ op: 'add', path: 'name.givenName', value: 'Jo' }), expected: user({ name: { givenName: 'Jo' } }) },
    { name: 'add a complex value merges', doc: user({ name: NAME }), body: patch({ op: 'add', path: 'name', value: { middleName: 'J' } }), expected: user({ name: { ...NAME, middleName: 'J' } }) },
    { name: 'replace a complex value merges (RFC 7644 §3.5.2.3)', doc: user({ name: NAME }), body: patch({ op: 'replace', path: 'name', value: { givenName: 'Jo' } }), expected: user({ name: { ...NAME, givenName: 'Jo' } }) },
    { name: 'sub-attribute keys of a value are canonicalised', doc: user({ name: NAME }), body: patch({ op: 'replace', path: 'Name', value: { GIVENNAME: 'Jo' } }), expected: user({ name: { ...NAME, givenName: 'Jo' } }) },
    { name: 'null sub-attribute in a merge unassigns it', doc: user({ name: NAME }), body: patch({ op: 'replace', path: 'name', value: { givenName: null } }), expected: user({ name: { familyName: 'Jensen' } }) },
    { name: 'remove a sub-attribute', doc: user({ name: NAME }), body: patch({ op: 'remove', path: 'name.givenName' }), expected: user({ name: { familyName: 'Jensen' } }) },
    { name: 'removing the last sub-attribute unassigns the attribute', doc: user({ name: { givenName: 'B' } }), body: patch({ op: 'remove', path: 'name.givenName' }), expected: user() },
    // multi-valued attribute
    { name: 'add appends', doc: user({ emails: [WORK] }), body: patch({ op: 'add', path: 'emails', value: [HOME] }), expected: WITH_EMAILS },
    { name: 'add an equal value does not duplicate it', doc: WITH_EMAILS, body: patch({ op: 'add', path: 'emails', value: [{ type: 'home', value: 'babs@jensen.org' }] }), expected: WITH_EMAILS, attributes: [] },
    { name: 'add accepts one object for a multi-valued attribute', doc: user(), body: patch({ op: 'add', path: 'emails', value: { Value: 'a@x', Type: 'work' } }), expected: user({ emails: [{ value: 'a@x', type: 'work' }] }) },
    { name: 'add with primary true takes primary from the others (RFC 7643 §2.4)', doc: WITH_EMAILS, body: patch({ op: 'add', path: 'emails', value: [{ value: 'new@x', primary: true }] }), expected: user({ emails: [{ value: 'bjensen@example.com', type: 'work' }, HOME, { value: 'new@x', primary: true }] }) },
    { name: 'replace without filter replaces the whole array', doc: WITH_EMAILS, body: patch({ op: 'replace', path: 'emails', value: [{ value: 'only@x' }] }), expected: user({ emails: [{ value: 'only@x' }] }) },
    { name: 'replace with [] unassigns', doc: WITH_EMAILS, body: patch({ op: 'replace', path: 'emails', value: [] }), expected: user() },
    { name: 'remove the attribute removes every value', doc: WITH_EMAILS, body: patch({ op: 'remove', path: 'emails' }), expected: user() },
    { name: 'remove a sub-attribute from every value', doc: WITH_EMAILS, body: patch({ op: 'remove', path: 'emails.type' }), expected: user({ emails: [{ value: 'bjensen@example.com', primary: true }, { value: 'babs@jensen.org' }] }) },
    { name: 'replace a sub-attribute of every value', doc: WITH_EMAILS, body: patch({ op: 'replace', path: 'emails.display', value: 'B' }), expected: user({ emails: [{ ...WORK, display: 'B' }, { ...HOME, display: 'B' }] }) },
    { name: 'add a sub-attribute of an unassigned multi-valued creates a value', doc: user(), body: patch({ op: 'add', path: 'emails.value', value: 'a@x' }), expected: user({ emails: [{ value: 'a@x' }] }) },
    // value path filter
    { name: 'replace filter: every matching value, entirely', doc: WITH_EMAILS, body: patch({ op: 'replace', path: 'emails[type eq "home"]', value: { value: 'h@x', type: 'home' } }), expected: user({ emails: [WORK, { value: 'h@x', type: 'home' }] }) },
    { name: 'add filter: merges into every matching value', doc: WITH_EMAILS, body: patch({ op: 'add', path: 'emails[type eq "home"]', value: { display: 'Home' } }), expected: user({ emails: [WORK, { ...HOME, display: 'Home' }] }) },
    { name: 'replace filter with primary true moves primary', doc: WITH_EMAILS, body: patch({ op: 'replace', path: 'emails[type eq "home"]', value: { ...HOME, primary: true } }), expected: user({ emails: [{ value: 'bjensen@example.com', type: 'work' }, { ...HOME, primary: true }] }) },
    { name: 'filter matching several values replaces each', doc: user({ emails: [{ value: 'a@x', type: 'other' }, { value: 'b@x', type: 'other' }] }), body: patch({ op: 'replace', path: 'emails[type eq "other"]', value: { value: 'c@x', type: 'other' } }), expected: user({ emails: [{ value: 'c@x', type: 'other' }, { value: 'c@x', type: 'other' }] }) },
    { name: 'remove filter: matching values', doc: WITH_EMAILS, body: patch({ op: 'remove', path: 'emails[primary eq true]' }), expected: user({ emails: [HOME] }) },
    { name: 'remove filter: the last value unassigns the attribute', doc: user({ emails: [WORK] }), body: patch({ op: 'remove', path: 'emails[type eq "work"]' }), expected: user() },
    { name: 'filter values compare case-insensitively (type is not caseExact)', doc: WITH_EMAILS, body: patch({ op: 'remove', path: 'Emails[TYPE eq "HOME"]' }), expected: user({ emails: [WORK] }) },
    // value path filter + sub-attribute
    { name: 'replace filter.subAttr', doc: WITH_EMAILS, body: patch({ op: 'replace', path: 'emails[type eq "work"].value', value: 'jo@example.com' }), expected: user({ emails: [{ ...WORK, value: 'jo@example.com' }, HOME] }) },
    { name: 'add filter.subAttr', doc: WITH_EMAILS, body: patch({ op: 'add', path: 'emails[type eq "home"].Display', value: 'Home' }), expected: user({ emails: [WORK, { ...HOME, display: 'Home' }] }) },
    { name: 'replace filter.primary true moves primary', doc: WITH_EMAILS, body: patch({ op: 'replace', path: 'emails[type eq "home"].primary', value: true }), expected: user({ emails: [{ value: 'bjensen@example.com', type: 'work' }, { ...HOME, primary: true }] }) },
    { name: 'remove filter.subAttr only in matching values', doc: WITH_EMAILS, body: patch({ op: 'remove', path: 'emails[type eq "work"].primary' }), expected: user({ emails: [{ value: 'bjensen@example.com', type: 'work' }, HOME] }) },
    { name: 'remove filter.subAttr drops a value left empty', doc: user({ emails: [{ value: 'a@x' }, HOME] }), body: patch({ op: 'remove', path: 'emails[value eq "a@x"].value' }), expected: user({ emails: [HOME] }) },
    // extension attributes (URN-prefixed paths)
    { name: 'add an extension attribute creates the extension and lists its URN', doc: user(), body: patch({ op: 'add', path: `${E}:department`, value: 'Ops' }), expected: { schemas: [U, E], userName: 'bjensen', [E]: { department: 'Ops' } }, attributes: [`${E}:department`] },
    { name: 'extension URN and attribute are case-insensitive', doc: user(), body: patch({ op: 'add', path: `${E.toUpperCase()}:Department`, value: 'Ops' }), expected: { schemas: [U, E], userName: 'bjensen', [E]: { department: 'Ops' } } },
    { name: 'replace an extension sub-attribute', doc: { ...user(), schemas: [U, E], [E]: { manager: { value: 'old' } } }, body: patch({ op: 'replace', path: `${E}:manager.value`, value: MANAGER }), expected: { ...user(), schemas: [U, E], [E]: { manager: { value: MANAGER } } }, attributes: [`${E}:manager`] },
    { name: 'add an extension complex value merges', doc: { ...user(), schemas: [U, E], [E]: { manager: { value: 'm' } } }, body: patch({ op: 'add', path: `${E}:manager`, value: { $REF: '../Users/m' } }), expected: { ...user(), schemas: [U, E], [E]: { manager: { value: 'm', $ref: '../Users/m' } } } },
    { name: 'removing the last extension attribute removes the extension and its URN', doc: { ...user(), schemas: [U, E], [E]: { department: 'Ops' } }, body: patch({ op: 'remove', path: `${E}:department` }), expected: user(), attributes: [`${E}:department`] },
    { name: 'removing one of two extension attributes keeps the extension', doc: { ...user(), schemas: [U, E], [E]: { department: 'Ops', division: 'D' } }, body: patch({ op: 'remove', path: `${E}:department` }), expected: { ...user(), schemas: [U, E], [E]: { division: 'D' } } },
    // bare extension URN: the whole extension object
    { name: 'bare URN add merges into the extension', doc: { ...user(), schemas: [U, E], [E]: { department: 'Ops' } }, body: patch({ op: 'add', path: E, value: { costCenter: '42', Department: 'Dev' } }), expected: { ...user(), schemas: [U, E], [E]: { department: 'Dev', costCenter: '42' } }, attributes: [`${E}:costCenter`, `${E}:department`] },
    { name: 'bare URN replace sets the attributes given, keeps the others', doc: { ...user(), schemas: [U, E], [E]: { department: 'Ops', division: 'D' } }, body: patch({ op: 'replace', path: E, value: { department: 'Dev' } }), expected: { ...user(), schemas: [U, E], [E]: { department: 'Dev', division: 'D' } } },
    { name: 'bare URN add on a user without the extension', doc: user(), body: patch({ op: 'add', path: E, value: { employeeNumber: '7' } }), expected: { schemas: [U, E], userName: 'bjensen', [E]: { employeeNumber: '7' } } },
    { name: 'bare URN remove deletes the extension', doc: { ...user(), schemas: [U, E], [E]: { department: 'Ops', manager: { value: 'm' } } }, body: patch({ op: 'remove', path: E }), expected: user(), attributes: [`${E}:department`, `${E}:manager`] },
    // no path: an object of attributes
    { name: 'path-less replace (Okta deactivation)', doc: user({ active: true }), body: patch({ op: 'replace', value: { active: false } }), expected: user({ active: false }), attributes: ['active'] },
    { name: 'path-less add with an extension URN key merges into the extension', doc: { ...user(), schemas: [U, E], [E]: { department: 'Ops' } }, body: patch({ op: 'add', value: { [E]: { division: 'D' }, title: 'T' } }), expected: { ...user({ title: 'T' }), schemas: [U, E], [E]: { department: 'Ops', division: 'D' } } },
    { name: 'path-less replace of a complex value merges', doc: user({ name: NAME }), body: patch({ op: 'replace', value: { name: { givenName: 'Jo' } } }), expected: user({ name: { ...NAME, givenName: 'Jo' } }) },
    { name: 'path-less ignores schemas and readOnly keys (what a client read back)', doc: user(), body: patch({ op: 'replace', value: { schemas: [U], id: 'x', meta: { version: 'W/"1"' }, groups: [{ value: 'g' }], title: 'T' } }), expected: user({ title: 'T' }) },
    // operations apply in order
    { name: 'add then remove', doc: user(), body: patch({ op: 'add', path: 'title', value: 'T' }, { op: 'remove', path: 'title' }), expected: user(), attributes: [] },
    { name: 'add a value, then replace it by filter', doc: user(), body: patch({ op: 'add', path: 'emails', value: [{ value: 'a@x', type: 'work' }] }, { op: 'replace', path: 'emails[type eq "work"].value', value: 'b@x' }), expected: user({ emails: [{ value: 'b@x', type: 'work' }] }) },
  ]);
});

describe('applyPatch: errors (RFC 7644 §3.12 Table 9)', () => {
  runErrorRows([
    // the message
    { name: 'body not an object', body: [], scimType: 'invalidSyntax' },
    { name: 'no schemas', body: { Operations: [{ op: 'add', path: 'title', value: 'x' }] }, scimType: 'invalidSyntax', detail: /PatchOp/ },
    { name: 'wrong schema', body: { schemas: [U], Operations: [{ op: 'add', path: 'title', value: 'x' }] }, scimType: 'invalidSyntax' },
    { name: 'no Operations', body: { schemas: [PATCH_OP_URN] }, scimType: 'invalidSyntax', detail: /Operations/ },
    { name: 'empty Operations', body: patch(), scimType: 'invalidSyntax', detail: /non-empty/ },
    { name: 'operation not an object', body: patch('add'), scimType: 'invalidSyntax', detail: /Operations\[0\]/ },
    { name: 'op missing', body: patch({ path: 'title', value: 'x' }), scimType: 'invalidSyntax' },
    { name: 'op unknown', body: patch({ op: 'merge', path: 'title', value: 'x' }), scimType: 'invalidSyntax', detail: /"add", "remove" or "replace"/ },
    { name: 'add without value', body: patch({ op: 'add', path: 'title' }), scimType: 'invalidSyntax', detail: /requires a "value"/ },
    { name: 'replace without value', body: patch({ op: 'replace', path: 'title' }), scimType: 'invalidSyntax' },
    { name: 'path-less add with a non-object value', body: patch({ op: 'add', value: 'x' }), scimType: 'invalidValue' },
    { name: 'the failing operation is named', body: patch({ op: 'add', path: 'title', value: 'x' }, { op: 'remove' }), scimType: 'noTarget', detail: /^Operations\[1\]: "remove" requires a "path"/ },
    // invalidPath
    { name: 'path not a string', body: patch({ op: 'add', path: 7, value: 'x' }), scimType: 'invalidPath' },
    { name: 'malformed path', body: patch({ op: 'add', path: 'emails[type eq', value: 'x' }), scimType: 'invalidPath', detail: /^Operations\[0\]: Invalid path at position/ },
    { name: 'unknown attribute', body: patch({ op: 'replace', path: 'shoeSize', value: 44 }), scimType: 'invalidPath', detail: /"shoeSize" is not an attribute of User/ },
    { name: 'unknown sub-attribute', body: patch({ op: 'replace', path: 'name.nick', value: 'x' }), scimType: 'invalidPath', detail: /"nick" is not a sub-attribute of "name"/ },
    { name: 'unknown filter sub-attribute target', body: patch({ op: 'replace', path: 'emails[type eq "work"].label', value: 'x' }), scimType: 'invalidPath', detail: /"label"/ },
    { name: 'sub-attribute of a simple attribute', body: patch({ op: 'replace', path: 'title.x', value: 'x' }), scimType: 'invalidPath' },
    { name: 'value filter on a single-valued attribute', body: patch({ op: 'remove', path: 'name[givenName eq "x"]' }), scimType: 'invalidPath', detail: /single-valued/ },
    { name: 'unknown extension attribute', body: patch({ op: 'add', path: `${E}:shoeSize`, value: 'x' }), scimType: 'invalidPath' },
    { name: 'unknown schema URN', body: patch({ op: 'add', path: 'urn:example:custom:1.0:User:badge', value: 'x' }), scimType: 'invalidPath', detail: /not a schema of User/ },
    { name: 'a Group attribute on a User', body: patch({ op: 'add', path: 'members', value: [{ value: BABS }] }), scimType: 'invalidPath' },
    { name: 'the Group schema on a User', body: patch({ op: 'add', path: `${GROUP_URN}:displayName`, value: 'x' }), scimType: 'invalidPath' },
    { name: 'the enterprise extension on a Group', type: 'Group', doc: group(), body: patch({ op: 'remove', path: E }), scimType: 'invalidPath' },
    { name: 'the bare core URN', body: patch({ op: 'remove', path: U }), scimType: 'invalidPath', detail: /omit "path"/ },
    { name: 'bare extension URN with a key it does not have', body: patch({ op: 'add', path: E, value: { shoeSize: 1 } }), scimType: 'invalidPath' },
    { name: 'path-less unknown key', body: patch({ op: 'replace', value: { shoeSize: 44 } }), scimType: 'invalidPath', detail: /"shoeSize"/ },
    // mutability
    { name: 'id', body: patch({ op: 'replace', path: 'id', value: 'x' }), scimType: 'mutability', detail: /"id" is readOnly/ },
    { name: 'meta', body: patch({ op: 'remove', path: 'meta' }), scimType: 'mutability' },
    { name: 'meta.lastModified', body: patch({ op: 'replace', path: 'meta.lastModified', value: '2020-01-01T00:00:00Z' }), scimType: 'mutability' },
    { name: 'User groups', body: patch({ op: 'add', path: 'groups', value: [{ value: 'g' }] }), scimType: 'mutability' },
    { name: 'User groups by filter', body: patch({ op: 'remove', path: 'groups[value eq "g"]' }), scimType: 'mutability' },
    { name: 'manager.displayName (readOnly sub-attribute)', body: patch({ op: 'replace', path: `${E}:manager.displayName`, value: 'x' }), scimType: 'mutability' },
    { name: 'dotted path-less key naming a readOnly attribute', compat: only('dottedKeys'), body: patch({ op: 'replace', value: { 'meta.version': 'x' } }), scimType: 'mutability' },
    // noTarget
    { name: 'remove without path', body: patch({ op: 'remove' }), scimType: 'noTarget' },
    { name: 'remove filter matching nothing', body: patch({ op: 'remove', path: 'emails[type eq "other"]' }), scimType: 'noTarget', detail: /no value of "emails" matches \[type eq "other"\]/ },
    { name: 'remove filter on an unassigned attribute', doc: user(), body: patch({ op: 'remove', path: 'phoneNumbers[type eq "work"]' }), scimType: 'noTarget' },
    { name: 'replace filter matching nothing (strict)', body: patch({ op: 'replace', path: 'emails[type eq "other"]', value: { value: 'x@y' } }), scimType: 'noTarget' },
    { name: 'filter with an unknown sub-attribute matches nothing', body: patch({ op: 'remove', path: 'emails[label eq "x"]' }), scimType: 'noTarget' },
    // invalidValue / invalidSyntax on values
    { name: 'complex attribute given a string', body: patch({ op: 'replace', path: 'name', value: 'Babs' }), scimType: 'invalidValue', detail: /JSON object/ },
    { name: 'filter target given a string', body: patch({ op: 'replace', path: 'emails[type eq "work"]', value: 'x@y' }), scimType: 'invalidValue' },
    { name: 'bare extension URN given a string', body: patch({ op: 'add', path: E, value: 'x' }), scimType: 'invalidValue' },
    { name: 'remove with a value on a multi-valued attribute (strict)', body: patch({ op: 'remove', path: 'emails', value: [HOME] }), scimType: 'invalidSyntax', detail: /value filter/ },
  ]);

  it('a failed PATCH leaves the stored document untouched (atomic; the input is never mutated)', () => {
    const doc = deepFreeze(structuredClone(WITH_EMAILS));
    expect(() => applyPatch('User', doc, patch({ op: 'remove', path: 'emails[type eq "home"]' }, { op: 'remove', path: 'nope' }), STRICT)).toThrow(ScimError);
    expect(doc).toEqual(WITH_EMAILS);
  });

  it('the result shares no objects with the request body', () => {
    const value = [{ value: 'a@x' }];
    const r = applyPatch('User', user(), patch({ op: 'add', path: 'emails', value }), STRICT);
    value[0]!.value = 'changed';
    expect(r.doc.emails).toEqual([{ value: 'a@x' }]);
  });

  it('never copies prototype keys', () => {
    const body = JSON.parse(`{"schemas":["${PATCH_OP_URN}"],"Operations":[{"op":"add","value":{"__proto__":{"polluted":true},"name":{"__proto__":{"polluted":true},"givenName":"Jo"}}}]}`);
    const r = applyPatch('User', user(), body, STRICT);
    expect(({} as Obj).polluted).toBeUndefined();
    expect(r.doc).toEqual(user({ name: { givenName: 'Jo' } }));
  });
});

describe('applyPatch: Group members become a MemberPatch, never the document', () => {
  const rows: { name: string; body: unknown; compat?: PatchCompat; members: Partial<MemberPatch>; doc?: Obj }[] = [
    { name: 'add (Okta: value and display)', body: patch({ op: 'add', path: 'members', value: [{ value: BABS, display: 'babs@example.com' }, { value: JAMES, display: 'james@example.com' }] }), members: { add: [BABS, JAMES], displays: new Map([[BABS, 'babs@example.com'], [JAMES, 'james@example.com']]) } },
    // A member's display is kept as sent (RFC 7643 §4.2); $ref and type are the server's to derive.
    { name: 'add with $ref and type: only value (and display) are kept', body: patch({ op: 'add', path: 'members', value: [{ value: BABS, $ref: 'https://x/Users/1', type: 'User' }] }), members: { add: [BABS] } },
    { name: 'add the same id twice with displays: the first is kept', body: patch({ op: 'add', path: 'members', value: [{ value: BABS, display: 'one' }, { value: BABS, display: 'two' }] }, { op: 'add', path: 'members', value: [{ value: BABS, display: 'three' }] }), members: { add: [BABS], displays: new Map([[BABS, 'one']]) } },
    { name: 'removed and added again: the later display', body: patch({ op: 'add', path: 'members', value: [{ value: BABS, display: 'one' }] }, { op: 'remove', path: `members[value eq "${BABS}"]` }, { op: 'add', path: 'members', value: [{ value: BABS, display: 'two' }] }), members: { add: [BABS], displays: new Map([[BABS, 'two']]) } },
    { name: 'replace drops the displays of earlier adds', body: patch({ op: 'add', path: 'members', value: [{ value: BABS, display: 'one' }] }, { op: 'replace', path: 'members', value: [{ value: JAMES, DISPLAY: 'J' }] }), members: { replaceWith: [JAMES], displays: new Map([[JAMES, 'J']]) } },
    { name: 'add the same id twice', body: patch({ op: 'add', path: 'members', value: [{ value: BABS }, { value: BABS }] }, { op: 'add', path: 'members', value: [{ value: BABS }] }), members: { add: [BABS] } },
    { name: 'add one object (not an array)', body: patch({ op: 'add', path: 'members', value: { value: BABS } }), members: { add: [BABS] } },
    { name: 'path-less add with members', body: patch({ op: 'add', value: { members: [{ value: BABS }] } }), members: { add: [BABS] } },
    { name: 'replace members', body: patch({ op: 'replace', path: 'members', value: [{ value: BABS }] }), members: { replaceWith: [BABS] } },
    { name: 'replace members with [] (empties the group)', body: patch({ op: 'replace', path: 'members', value: [] }), members: { replaceWith: [] } },
    { name: 'path-less replace with displayName and members (Okta also sends id)', body: patch({ op: 'replace', value: { id: 'g1', displayName: 'Renamed', members: [{ value: JAMES }] } }), members: { replaceWith: [JAMES] }, doc: group({ displayName: 'Renamed' }) },
    { name: 'remove all', body: patch({ op: 'remove', path: 'members' }), members: { removeAll: true } },
    { name: 'remove by value eq', body: patch({ op: 'remove', path: `members[value eq "${BABS}"]` }), members: { remove: [BABS] } },
    { name: 'remove by an or of value eq terms', body: patch({ op: 'remove', path: `members[value eq "${BABS}" or VALUE eq "${JAMES}"]` }), members: { remove: [BABS, JAMES] } },
    { name: 'any other filter is left for the caller', body: patch({ op: 'remove', path: 'members[display eq "Babs"]' }), members: { removeWhere: [cmp('display', 'eq', 'Babs')] } },
    { name: 'value eq mixed with another term is a filter', body: patch({ op: 'remove', path: `members[value eq "${BABS}" and type eq "User"]` }), members: { removeWhere: [{ kind: 'and', children: [cmp('value', 'eq', BABS), cmp('type', 'eq', 'User')] }] } },
    // later operations see earlier ones
    { name: 'add then remove the same id: removed', body: patch({ op: 'add', path: 'members', value: [{ value: BABS }, { value: JAMES }] }, { op: 'remove', path: `members[value eq "${BABS}"]` }), members: { add: [JAMES], remove: [BABS] } },
    { name: 'remove then add the same id: added', body: patch({ op: 'remove', path: `members[value eq "${BABS}"]` }, { op: 'add', path: 'members', value: [{ value: BABS }] }), members: { add: [BABS] } },
    { name: 'replace resets earlier adds and removes', body: patch({ op: 'add', path: 'members', value: [{ value: BABS }] }, { op: 'remove', path: 'members[display eq "x"]' }, { op: 'replace', path: 'members', value: [{ value: JAMES }] }), members: { replaceWith: [JAMES] } },
    { name: 'replace, then add and remove', body: patch({ op: 'replace', path: 'members', value: [{ value: BABS }, { value: JAMES }] }, { op: 'remove', path: `members[value eq "${BABS}"]` }, { op: 'add', path: 'members', value: [{ value: 'c' }] }), members: { replaceWith: [JAMES], add: ['c'] } },
    { name: 'remove all, then add, then remove that id', body: patch({ op: 'remove', path: 'members' }, { op: 'add', path: 'members', value: [{ value: BABS }] }, { op: 'remove', path: `members[value eq "${BABS}"]` }), members: { removeAll: true } },
    { name: 'remove all clears a pending replace', body: patch({ op: 'replace', path: 'members', value: [{ value: BABS }] }, { op: 'remove', path: 'members' }), members: { removeAll: true } },
  ];
  it.each(rows)('$name', ({ body, compat = STRICT, members, doc = group() }) => {
    const r = applyPatch('Group', deepFreeze(group()), body, compat);
    expect(r.members).toEqual({ ...NO_MEMBERS, ...members });
    expect(r.doc).toEqual(doc);
    expect(r.attributes).toContain('members');
  });

  runErrorRows([
    { name: 'member without value', type: 'Group', doc: group(), body: patch({ op: 'add', path: 'members', value: [{ display: 'x' }] }), scimType: 'invalidValue', detail: /members\[0\]/ },
    { name: 'member value not a string', type: 'Group', doc: group(), body: patch({ op: 'add', path: 'members', value: [{ value: BABS }, { value: 7 }] }), scimType: 'invalidValue', detail: /members\[1\]/ },
    { name: 'member as a bare id', type: 'Group', doc: group(), body: patch({ op: 'replace', path: 'members', value: [BABS] }), scimType: 'invalidValue' },
    { name: 'member display not a string', type: 'Group', doc: group(), body: patch({ op: 'add', path: 'members', value: [{ value: BABS, display: 7 }] }), scimType: 'invalidValue', detail: /members\[0\]\.display/ },
    { name: 'member sub-attribute (immutable: add the member again instead)', type: 'Group', doc: group(), body: patch({ op: 'replace', path: `members[value eq "${BABS}"].display`, value: 'x' }), scimType: 'mutability' },
    { name: 'member value (immutable)', type: 'Group', doc: group(), body: patch({ op: 'replace', path: 'members.value', value: 'x' }), scimType: 'mutability' },
    { name: 'replace through a members filter', type: 'Group', doc: group(), body: patch({ op: 'replace', path: `members[value eq "${BABS}"]`, value: { value: JAMES } }), scimType: 'mutability' },
  ]);
});

describe('applyPatch: compat switches, each off (RFC 7644) and on (what the IdP sends)', () => {
  const EXT = (data: Obj): Obj => ({ schemas: [U, E], userName: 'bjensen', [E]: data });

  describe('opCase (Entra: "Replace", "Add", "Remove")', () => {
    const body = patch({ op: 'Replace', path: 'active', value: 'False' });
    runErrorRows([{ name: 'off', doc: user({ active: true }), body, scimType: 'invalidSyntax', detail: /lower case/ }]);
    runDocRows([
      { name: 'on: Replace', doc: user({ active: true }), body, compat: only('opCase'), expected: user({ active: 'False' }) },
      { name: 'on: Add and Remove', doc: user({ title: 'T' }), body: patch({ op: 'Add', path: 'nickName', value: 'B' }, { op: 'REMOVE', path: 'title' }), compat: only('opCase'), expected: user({ nickName: 'B' }) },
    ]);
  });

  describe('memberValueRemove (Entra: remove members with a value array)', () => {
    const body = patch({ op: 'Remove', path: 'members', value: [{ value: BABS }, { value: JAMES }] });
    runErrorRows([
      { name: 'off: never silently empty a group', type: 'Group', doc: group(), body, compat: only('opCase'), scimType: 'invalidSyntax', detail: /members\[value eq/ },
    ]);
    it('on: removes exactly those members', () => {
      const r = applyPatch('Group', group(), body, { ...only('memberValueRemove'), opCase: true });
      expect(r.members).toEqual({ ...NO_MEMBERS, remove: [BABS, JAMES] });
    });
    it('on: remove members with no value still removes all', () => {
      expect(applyPatch('Group', group(), patch({ op: 'remove', path: 'members' }), only('memberValueRemove')).members.removeAll).toBe(true);
    });
    runDocRows([
      { name: 'on: the same shape on another multi-valued attribute removes those values', doc: WITH_EMAILS, body: patch({ op: 'remove', path: 'emails', value: [{ value: 'babs@jensen.org' }] }), compat: only('memberValueRemove'), expected: user({ emails: [WORK] }) },
    ]);
  });

  describe('managerString (Entra: the manager id as a bare string)', () => {
    const add = patch({ op: 'Add', path: `${E}:manager`, value: MANAGER });
    runErrorRows([{ name: 'off', doc: user(), body: add, compat: only('opCase'), scimType: 'invalidValue', detail: /manager" is a complex attribute/ }]);
    runDocRows([
      { name: 'on: add', doc: user(), body: add, compat: { ...only('managerString'), opCase: true }, expected: EXT({ manager: { value: MANAGER } }), attributes: [`${E}:manager`] },
      { name: 'on: replace keeps $ref', doc: EXT({ manager: { value: 'old', $ref: '../Users/old' } }), body: patch({ op: 'replace', path: `${E}:manager`, value: MANAGER }), compat: only('managerString'), expected: EXT({ manager: { value: MANAGER, $ref: '../Users/old' } }) },
      { name: 'on: an object value is unchanged', doc: user(), body: patch({ op: 'add', path: `${E}:manager`, value: { value: MANAGER } }), compat: only('managerString'), expected: EXT({ manager: { value: MANAGER } }) },
    ]);
  });

  describe('dottedKeys (Entra/Okta: paths as keys of a path-less value)', () => {
    const names = patch({ op: 'replace', value: { 'name.givenName': 'Jo', 'name.familyName': 'Doe' } });
    runErrorRows([
      { name: 'off: name.givenName', doc: user(), body: names, scimType: 'invalidPath', detail: /"name\.givenName" is a path, not an attribute name/ },
      { name: 'off: URN-qualified key', doc: user(), body: patch({ op: 'add', value: { [`${E}:department`]: 'Ops' } }), scimType: 'invalidPath' },
      { name: 'on: an unknown dotted key is still invalidPath', doc: user(), compat: only('dottedKeys'), body: patch({ op: 'replace', value: { 'name.nick': 'x' } }), scimType: 'invalidPath' },
    ]);
    runDocRows([
      { name: 'on: Entra Replace with name.givenName / name.familyName', doc: user({ name: { formatted: 'B J' } }), body: patch({ op: 'Replace', value: { 'name.givenName': 'Jo', 'name.familyName': 'Doe' } }), compat: { ...only('dottedKeys'), opCase: true }, expected: user({ name: { formatted: 'B J', givenName: 'Jo', familyName: 'Doe' } }), attributes: ['name'] },
      { name: 'on: URN-qualified extension keys mixed with plain ones', doc: user(), body: patch({ op: 'add', value: { [`${E}:department`]: 'Ops', [`${E}:manager.value`]: MANAGER, displayName: 'Jo' } }), compat: only('dottedKeys'), expected: { ...EXT({ department: 'Ops', manager: { value: MANAGER } }), displayName: 'Jo' } },
      { name: 'on: a value-path key', doc: WITH_EMAILS, body: patch({ op: 'replace', value: { 'emails[type eq "work"].value': 'jo@example.com' } }), compat: only('dottedKeys'), expected: user({ emails: [{ ...WORK, value: 'jo@example.com' }, HOME] }) },
    ]);
  });

  describe('absentMultiValueFilter (Entra: filter paths naming a value that does not exist yet)', () => {
    const addWork = patch({ op: 'Add', path: 'emails[type eq "work"].value', value: 'jo@example.com' });
    const on = { ...only('absentMultiValueFilter'), opCase: true };
    runErrorRows([
      { name: 'off', doc: user(), body: addWork, compat: only('opCase'), scimType: 'noTarget', detail: /no value of "emails" matches \[type eq "work"\]/ },
      { name: 'on, but the filter is not eq terms', doc: user(), body: patch({ op: 'add', path: 'emails[type ne "work"].value', value: 'x' }), compat: on, scimType: 'noTarget', detail: /"eq" terms/ },
      { name: 'on, but the filter names an unknown sub-attribute', doc: user(), body: patch({ op: 'add', path: 'emails[label eq "work"].value', value: 'x' }), compat: on, scimType: 'noTarget' },
      { name: 'on: remove is still noTarget', doc: user(), body: patch({ op: 'remove', path: 'emails[type eq "work"]' }), compat: on, scimType: 'noTarget' },
    ]);
    runDocRows([
      { name: 'on: add emails[type eq "work"].value on a user with no emails', doc: user(), body: addWork, compat: on, expected: user({ emails: [{ type: 'work', value: 'jo@example.com' }] }), attributes: ['emails'] },
      { name: 'on: replace addresses[type eq "work"].locality appends to the others', doc: user({ addresses: [{ type: 'home', locality: 'A' }] }), body: patch({ op: 'Replace', path: 'addresses[type eq "work"].locality', value: 'Redmond' }), compat: on, expected: user({ addresses: [{ type: 'home', locality: 'A' }, { type: 'work', locality: 'Redmond' }] }) },
      { name: 'on: the value still updates when it exists', doc: WITH_EMAILS, body: addWork, compat: on, expected: user({ emails: [{ ...WORK, value: 'jo@example.com' }, HOME] }) },
      { name: 'on: several eq terms and a primary', doc: WITH_EMAILS, body: patch({ op: 'replace', path: 'phoneNumbers[type eq "mobile" and primary eq true].value', value: '+1 555' }), compat: on, expected: user({ emails: [WORK, HOME], phoneNumbers: [{ type: 'mobile', primary: true, value: '+1 555' }] }) },
      { name: 'on: a whole value', doc: user(), body: patch({ op: 'replace', path: 'emails[type eq "home"]', value: { value: 'h@x', primary: true } }), compat: on, expected: user({ emails: [{ type: 'home', value: 'h@x', primary: true }] }) },
      { name: 'on: the new primary takes over', doc: WITH_EMAILS, body: patch({ op: 'add', path: 'emails[type eq "other"]', value: { value: 'o@x', primary: true } }), compat: on, expected: user({ emails: [{ value: 'bjensen@example.com', type: 'work' }, HOME, { type: 'other', value: 'o@x', primary: true }] }) },
      { name: 'on: null creates nothing', doc: user(), body: patch({ op: 'replace', path: 'emails[type eq "work"].value', value: null }), compat: on, expected: user() },
    ]);
  });

  it('everything on at once: a typical Entra ID user update', () => {
    const body = patch(
      { op: 'Replace', path: 'active', value: 'False' },
      { op: 'Add', path: 'emails[type eq "work"].value', value: 'jo@example.com' },
      { op: 'Replace', value: { 'name.givenName': 'Jo', 'name.familyName': 'Doe' } },
      { op: 'Add', path: `${E}:manager`, value: MANAGER },
      { op: 'Replace', path: `${E}:department`, value: 'Ops' },
    );
    const r = applyPatch('User', deepFreeze(user({ active: true })), body, LENIENT);
    expect(r.doc).toEqual({
      schemas: [U, E],
      userName: 'bjensen',
      active: 'False',
      emails: [{ type: 'work', value: 'jo@example.com' }],
      name: { givenName: 'Jo', familyName: 'Doe' },
      [E]: { manager: { value: MANAGER }, department: 'Ops' },
    });
    expect(r.attributes).toEqual(['active', 'emails', 'name', `${E}:manager`, `${E}:department`]);
  });
});

describe('applyPatch: remove by members[value eq …] that names no member (RFC 7644 §3.5.2.2, §3.12 noTarget)', () => {
  const strictRemove: PatchCompat = { ...LENIENT, idempotentMemberRemove: false };
  const run = (compat: PatchCompat, ...ops: unknown[]) => applyPatch('Group', deepFreeze(group()), patch(...ops), compat);
  const rm = (id: string) => ({ op: 'remove', path: `members[value eq "${id}"]` });

  it('by default (lenient) it is a plain removal, idempotent, with nothing left to check', () => {
    expect(run(LENIENT, rm(BABS)).members).toEqual({ ...NO_MEMBERS, remove: [BABS] });
  });
  it('strict: ids the PATCH does not settle must be stored members (mustMatch, checked by the caller)', () => {
    expect(run(strictRemove, rm(BABS)).members).toEqual({ ...NO_MEMBERS, remove: [BABS], mustMatch: [{ ids: [BABS], path: `members[value eq "${BABS}"]` }] });
  });
  it('strict: a member added earlier in the same PATCH matches', () => {
    expect(run(strictRemove, { op: 'add', path: 'members', value: [{ value: BABS }] }, rm(BABS)).members.mustMatch).toBeUndefined();
  });
  it('strict: after a remove-all, a replace without the id, or an earlier removal of it, nothing can match: noTarget', () => {
    for (const ops of [[{ op: 'remove', path: 'members' }, rm(BABS)], [{ op: 'replace', path: 'members', value: [{ value: JAMES }] }, rm(BABS)], [rm(BABS), rm(BABS)]]) {
      const e = errorOf(() => run(strictRemove, ...ops));
      expect(e).toMatchObject({ status: 400, scimType: 'noTarget' });
      expect(e.detail).toMatch(/^Operations\[1\]: members\[value eq ".+"\] matches no member/);
    }
  });
});
