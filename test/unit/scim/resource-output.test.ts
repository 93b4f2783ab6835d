import { describe, expect, it } from 'vitest';
import { projectAttributes, stripNeverReturned } from '../../../src/scim/resource-output.js';

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
