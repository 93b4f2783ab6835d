import { describe, expect, it } from 'vitest';
import { omitEmptyMultiValued, omitEmptyMultiValuedWith, projectAttributes, projectWith, returnsAttribute, returnsAttributeWith, stripNeverReturned, type OutputSchemas } from '../../../src/scim/resource-output.js';
import { multi, str } from '../../../src/scim/schemas/attribute.js';
import { enterpriseUserSchema } from '../../../src/scim/schemas/enterprise-user.js';
import { GROUP_URN, USER_URN } from '../../../src/scim/schemas/registry.js';
import { userSchema } from '../../../src/scim/schemas/user.js';

const E = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const user = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: '1',
  userName: 'a',
  name: { givenName: 'B', familyName: 'C' },
  emails: [{ value: 'a@x', type: 'work' }],
  [E]: { department: 'Ops', costCenter: '9' },
  meta: { resourceType: 'User' },
};

describe('resource output (RFC 7643 §2.2, RFC 7644 §3.4.2.5)', () => {
  it('never returns the password', () => {
    expect(stripNeverReturned('User', { ...user, password: 'x' })).not.toHaveProperty('password');
  });
  it('attributes= keeps id and schemas plus the named paths', () => {
    expect(projectAttributes('User', user, { attributes: ['userName', 'name.familyName', `${E}:department`, 'emails.value'] })).toEqual({
      schemas: user.schemas,
      id: '1',
      userName: 'a',
      name: { familyName: 'C' },
      emails: [{ value: 'a@x' }],
      [E]: { department: 'Ops' },
    });
  });
  it('excludedAttributes= removes the named paths but never id', () => {
    const out = projectAttributes('User', user, { excludedAttributes: ['emails', 'name.givenName', 'id', `${E}:costCenter`] });
    expect(out).toEqual({ ...user, emails: undefined, name: { familyName: 'C' }, [E]: { department: 'Ops' } } as never);
    expect(out.id).toBe('1');
  });
});

describe('empty multi-valued attributes are left out (RFC 7643 §2.5)', () => {
  const X = 'urn:example:params:scim:schemas:extension:badges:2.0:User';
  const withExt: OutputSchemas = {
    schema: userSchema,
    extensions: [{ id: X, name: 'Badges', description: 'test', attributes: [multi('badges', 'Badges.', [str('value', 'Badge.')]), str('note', 'Note.')] }],
  };

  it('in the core schema, whatever other attributes hold', () => {
    const doc = { schemas: [USER_URN], userName: 'a', emails: [], phoneNumbers: [{ value: '1' }], roles: [], title: '' };
    expect(omitEmptyMultiValued('User', doc)).toEqual({ schemas: [USER_URN], userName: 'a', phoneNumbers: [{ value: '1' }], title: '' });
  });
  it("in an extension's multi-valued attribute", () => {
    const doc = { schemas: [USER_URN, X], userName: 'a', [X]: { badges: [], note: 'n' } };
    expect(omitEmptyMultiValuedWith(withExt, doc)).toEqual({ schemas: [USER_URN, X], userName: 'a', [X]: { note: 'n' } });
  });
  it('leaves a document without empty values as it is (the same object, nothing copied)', () => {
    const doc = { schemas: [USER_URN, X], userName: 'a', emails: [{ value: 'a@x' }], [X]: { badges: [{ value: 'b' }] } };
    expect(omitEmptyMultiValuedWith(withExt, doc)).toBe(doc);
  });
});

describe('returned (RFC 7643 §2.2) decides the output, from the schema registry', () => {
  const group = { schemas: [GROUP_URN], id: 'g', displayName: 'G', members: [{ value: 'u', display: 'U', type: 'User' }], meta: { resourceType: 'Group' } };

  it('returned=always (id) is kept when not named in attributes and when excluded', () => {
    expect(projectAttributes('Group', group, { attributes: ['displayName'] })).toEqual({ schemas: [GROUP_URN], id: 'g', displayName: 'G' });
    expect(projectAttributes('Group', group, { excludedAttributes: ['id', 'members'] })).toEqual({ schemas: [GROUP_URN], id: 'g', displayName: 'G', meta: group.meta });
  });

  it('returned=never (password) is dropped even when named', () => {
    const withPassword = { ...user, password: 'secret' };
    expect(projectAttributes('User', withPassword, { attributes: ['password', 'userName'] })).toEqual({ schemas: user.schemas, id: '1', userName: 'a' });
    expect(projectAttributes('User', withPassword, {})).not.toHaveProperty('password');
  });

  it('with no selection the default set is returned as is', () => {
    expect(projectAttributes('User', user, {})).toEqual(user);
    expect(projectAttributes('Group', { ...group, members: [] }, {})).toEqual({ ...group, members: [] });
  });

  it('an extension URN alone names (or excludes) the whole extension (RFC 7644 §3.10)', () => {
    expect(projectAttributes('User', user, { attributes: [E] })).toEqual({ schemas: user.schemas, id: '1', [E]: user[E] });
    expect(projectAttributes('User', user, { excludedAttributes: [E] })).not.toHaveProperty(E);
  });

  it('names are case-insensitive and may carry the core schema URN', () => {
    expect(projectAttributes('User', user, { attributes: ['USERNAME', `${USER_URN}:name.GIVENNAME`] })).toEqual({ schemas: user.schemas, id: '1', userName: 'a', name: { givenName: 'B' } });
  });

  // No attribute of the real schemas is returned=request, so a synthetic schema derived from the
  // real User schema adds some: `badge` (request), `name.secret` (request sub-attribute),
  // `tenant` (always) and `name.hidden` (never sub-attribute).
  const synthetic: OutputSchemas = {
    schema: {
      ...userSchema,
      attributes: [
        ...userSchema.attributes.map((a) =>
          a.name === 'name'
            ? { ...a, subAttributes: [...a.subAttributes!, str('secret', 'request sub', { returned: 'request' }), str('hidden', 'never sub', { returned: 'never' })] }
            : a,
        ),
        str('badge', 'a returned=request attribute', { returned: 'request' }),
        str('tenant', 'a returned=always attribute', { returned: 'always' }),
      ],
    },
    extensions: [enterpriseUserSchema],
  };
  const doc = { ...user, name: { givenName: 'B', familyName: 'C', secret: 's', hidden: 'h' }, badge: 'b-1', tenant: 't-1' };

  it('returned=request is left out of the default set and when only excluding', () => {
    const out = projectWith(synthetic, doc, {});
    expect(out).not.toHaveProperty('badge');
    expect(out.name).toEqual({ givenName: 'B', familyName: 'C' });
    expect(projectWith(synthetic, doc, { excludedAttributes: ['emails'] })).not.toHaveProperty('badge');
  });

  it('returned=request appears only when named in attributes (the attribute or the sub-attribute itself)', () => {
    expect(projectWith(synthetic, doc, { attributes: ['badge'] })).toEqual({ schemas: user.schemas, id: '1', badge: 'b-1', tenant: 't-1' });
    expect(projectWith(synthetic, doc, { attributes: ['name'] }).name).toEqual({ givenName: 'B', familyName: 'C' });
    expect(projectWith(synthetic, doc, { attributes: ['name.secret'] }).name).toEqual({ secret: 's' });
    expect(projectWith(synthetic, doc, { attributes: ['name', 'name.secret'] }).name).toEqual({ givenName: 'B', familyName: 'C', secret: 's' });
  });

  it('returned=always appears when not named and when excluded; returned=never never', () => {
    expect(projectWith(synthetic, doc, { attributes: ['userName'] })).toEqual({ schemas: user.schemas, id: '1', userName: 'a', tenant: 't-1' });
    expect(projectWith(synthetic, doc, { excludedAttributes: ['tenant', 'id'] })).toMatchObject({ id: '1', tenant: 't-1' });
    expect(projectWith(synthetic, doc, { attributes: ['name.hidden'] })).not.toHaveProperty('name');
  });

  it('returnsAttribute: the decision taken before reading, e.g. whether to fetch Group members', () => {
    expect(returnsAttribute('Group', 'members', {})).toBe(true);
    expect(returnsAttribute('Group', 'members', { excludedAttributes: ['members'] })).toBe(false);
    expect(returnsAttribute('Group', 'members', { excludedAttributes: ['Members', 'meta'] })).toBe(false);
    expect(returnsAttribute('Group', 'members', { excludedAttributes: ['members.display'] })).toBe(true);
    expect(returnsAttribute('Group', 'members', { attributes: ['displayName'] })).toBe(false);
    expect(returnsAttribute('Group', 'members', { attributes: ['members.value'] })).toBe(true);
    expect(returnsAttribute('Group', 'members', { attributes: [`${GROUP_URN}:members`] })).toBe(true);
    expect(returnsAttribute('Group', 'id', { excludedAttributes: ['id'] })).toBe(true);
    expect(returnsAttribute('User', 'password', { attributes: ['password'] })).toBe(false);
    expect(returnsAttributeWith(synthetic, 'badge', {})).toBe(false);
    expect(returnsAttributeWith(synthetic, 'badge', { attributes: ['badge'] })).toBe(true);
    expect(returnsAttributeWith(synthetic, 'tenant', { attributes: ['userName'] })).toBe(true);
  });
});
