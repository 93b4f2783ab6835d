import { describe, expect, it } from 'vitest';
import { errorOf } from '../../helpers/errors.js';
import { parseResourceInput } from '../../../src/scim/resource-input.js';
import { findAttribute } from '../../../src/scim/schemas/index.js';

const U = 'urn:ietf:params:scim:schemas:core:2.0:User';
const E = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const G = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const err = errorOf;

describe('parseResourceInput: rejects (RFC 7643 §2, RFC 7644 §3.12)', () => {
  const cases: [string, unknown, number, string, RegExp][] = [
    ['not an object', [1], 400, 'invalidSyntax', /JSON object/],
    ['no schemas', { userName: 'a' }, 400, 'invalidValue', /schemas/],
    ['unknown schema URN', { schemas: [U, 'urn:x'], userName: 'a' }, 400, 'invalidValue', /urn:x/],
    ['core URN missing', { schemas: [E], userName: 'a' }, 400, 'invalidValue', /must include/],
    ['userName missing', { schemas: [U] }, 400, 'invalidValue', /userName/],
    ['userName blank', { schemas: [U], userName: '  ' }, 400, 'invalidValue', /userName/],
    ['string as number', { schemas: [U], userName: 7 }, 400, 'invalidValue', /userName/],
    ['boolean as text (strict)', { schemas: [U], userName: 'a', active: 'True' }, 400, 'invalidValue', /active/],
    ['complex as string', { schemas: [U], userName: 'a', name: 'Bob' }, 400, 'invalidValue', /name/],
    ['single-valued as array', { schemas: [U], userName: 'a', title: ['x'] }, 400, 'invalidValue', /title/],
    ['two primaries', { schemas: [U], userName: 'a', emails: [{ value: 'a@x', primary: true }, { value: 'b@x', primary: true }] }, 400, 'invalidValue', /primary/],
    ['extension not an object', { schemas: [U, E], userName: 'a', [E]: 'x' }, 400, 'invalidValue', /enterprise/],
    ['group without displayName', { schemas: [G] }, 400, 'invalidValue', /displayName/],
  ];
  for (const [name, body, status, scimType, detail] of cases) {
    it(name, () => {
      const type = (body as { schemas?: string[] })?.schemas?.[0] === G ? 'Group' : 'User';
      const e = err(() => parseResourceInput(type, body, { mode: 'create' }));
      expect([e.status, e.scimType]).toEqual([status, scimType]);
      expect(e.detail).toMatch(detail);
    });
  }
});

describe('parseResourceInput: normalises', () => {
  it('matches attribute names case-insensitively and writes canonical names', () => {
    const { doc } = parseResourceInput('User', { SCHEMAS: [U.toUpperCase()], USERNAME: 'a', NAME: { GIVENNAME: 'B' }, Emails: [{ VALUE: 'a@x' }] }, { mode: 'create' });
    expect(doc).toEqual({ schemas: [U], userName: 'a', name: { givenName: 'B' }, emails: [{ value: 'a@x' }] });
  });

  it('drops readOnly input and reports unknown attributes', () => {
    const { doc, ignored } = parseResourceInput('User', { schemas: [U], userName: 'a', id: 'x', meta: {}, groups: [{ value: 'g' }], shoeSize: 44, name: { nick: 'n' } }, { mode: 'create' });
    expect(doc).toEqual({ schemas: [U], userName: 'a' });
    expect(ignored).toEqual(['shoeSize', 'name.nick']);
  });

  it('coerces "True"/"false" strings when asked (Entra ID)', () => {
    const { doc } = parseResourceInput('User', { schemas: [U], userName: 'a', active: 'True', emails: [{ value: 'a@x', primary: 'false' }] }, { mode: 'create', coerceStringBooleans: true });
    expect(doc.active).toBe(true);
    expect(doc.emails).toEqual([{ value: 'a@x', primary: false }]);
  });

  it('treats null and [] as unassigned (RFC 7643 §2.5) and wraps a single value of a multi-valued attribute', () => {
    const { doc } = parseResourceInput('User', { schemas: [U], userName: 'a', title: null, emails: [], phoneNumbers: { value: '1' } }, { mode: 'create' });
    expect(doc).toEqual({ schemas: [U], userName: 'a', phoneNumbers: [{ value: '1' }] });
  });

  it('keeps extension data under its URN, adding the URN to schemas when missing', () => {
    const { doc } = parseResourceInput('User', { schemas: [U], userName: 'a', [E.toLowerCase()]: { department: 'Ops', manager: { value: 'm1', displayName: 'ro' } } }, { mode: 'create' });
    expect(doc).toEqual({ schemas: [U, E], userName: 'a', [E]: { department: 'Ops', manager: { value: 'm1' } } });
  });

  it('never copies prototype keys', () => {
    const body = JSON.parse(`{"schemas":["${U}"],"userName":"a","name":{"__proto__":{"polluted":true}}}`);
    const { doc } = parseResourceInput('User', body, { mode: 'create' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(doc.name).toBeUndefined();
  });

  it('validates dateTime values', () => {
    // No core User attribute is a dateTime; the registry's meta.created is, and it is readOnly.
    expect(findAttribute('User', 'meta.created')?.sub?.type).toBe('dateTime');
  });
});

describe('findAttribute (RFC 7644 §3.10 paths)', () => {
  it.each([
    ['userName', 'userName', undefined],
    ['NAME.familyname', 'name', 'familyName'],
    [`${E}:manager.value`, 'manager', 'value'],
    [`${U}:emails.value`, 'emails', 'value'],
    ['externalId', 'externalId', undefined],
  ])('%s', (path, attr, sub) => {
    const r = findAttribute('User', path)!;
    expect(r.def.name).toBe(attr);
    expect(r.sub?.name).toBe(sub);
  });
  it('unknown paths resolve to undefined', () => {
    expect(findAttribute('User', 'shoeSize')).toBeUndefined();
    expect(findAttribute('User', 'name.nope')).toBeUndefined();
    expect(findAttribute('Group', 'userName')).toBeUndefined();
  });
});

describe('checkImmutable (RFC 7644 §3.5.1)', () => {
  // No core User/Group attribute is immutable at the top level; the rule is exercised on a schema that has one.
  const schema = { id: 'urn:test', name: 'T', description: '', attributes: [{ name: 'badge', type: 'string', multiValued: false, description: '', required: false, caseExact: true, mutability: 'immutable', returned: 'default', uniqueness: 'none' }] } as const;
  it('allows setting an unset immutable attribute and keeping it', async () => {
    const { checkImmutable } = await import('../../../src/scim/resource-input.js');
    expect(() => checkImmutable(schema, { badge: 'A' }, {})).not.toThrow();
    expect(() => checkImmutable(schema, { badge: 'A' }, { badge: 'A' })).not.toThrow();
  });
  it('refuses a change with 400 mutability', async () => {
    const { checkImmutable } = await import('../../../src/scim/resource-input.js');
    const e = err(() => checkImmutable(schema, { badge: 'B' }, { badge: 'A' }));
    expect([e.status, e.scimType]).toEqual([400, 'mutability']);
  });
});
