import { describe, expect, it } from 'vitest';
import {
  isResourceUri,
  parseResourcePath,
  parseResourcePathPrefix,
  RESOURCE_TYPE_NAMES,
  resourceLocation,
  resourcePath,
  resourceTypeForEndpoint,
} from '../../../src/scim/resource-types.js';

describe('resource types: names, paths and locations', () => {
  it('lists User before Group, the order routes and root searches use', () => {
    expect(RESOURCE_TYPE_NAMES).toEqual(['User', 'Group']);
  });

  it('builds a resource path and its absolute location under the versioned base', () => {
    expect(resourcePath('Group', 'g1')).toBe('/Groups/g1');
    expect(resourceLocation('https://scim.example', 'User', 'u1')).toBe('https://scim.example/scim/v2/Users/u1');
  });

  it('finds the type of an endpoint in any case, with or without its slash', () => {
    expect(resourceTypeForEndpoint('/Users')).toBe('User');
    expect(resourceTypeForEndpoint('groups')).toBe('Group');
    expect(resourceTypeForEndpoint('/Schemas')).toBeUndefined();
  });

  it('reads a bulk operation path: endpoint, resource, trailing slash, any case; nothing else', () => {
    expect(parseResourcePath('/Users')).toEqual({ type: 'User', id: undefined });
    expect(parseResourcePath('/groups/g1/')).toEqual({ type: 'Group', id: 'g1' });
    expect(parseResourcePath('/Users/u1/extra')).toBeUndefined();
    expect(parseResourcePath('/Usersx')).toBeUndefined();
    expect(parseResourcePath('Users/u1')).toBeUndefined();
  });

  it('reads as much of a stored path as names a resource', () => {
    expect(parseResourcePathPrefix('/Users/u1/extra')).toEqual({ type: 'User', id: 'u1' });
    expect(parseResourcePathPrefix('/Groupsx')).toEqual({ type: 'Group', id: undefined });
    expect(parseResourcePathPrefix('/Schemas')).toBeUndefined();
  });

  it('takes an SSF subject only as /Users/{id} or /Groups/{id}, spelled exactly', () => {
    expect(isResourceUri('/Users/u1')).toBe(true);
    expect(isResourceUri('/Groups/g1')).toBe(true);
    expect(isResourceUri('/users/u1')).toBe(false);
    expect(isResourceUri('/Users')).toBe(false);
    expect(isResourceUri('/Users/u1/x')).toBe(false);
  });
});
