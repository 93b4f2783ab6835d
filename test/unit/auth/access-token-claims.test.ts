import { describe, expect, it } from 'vitest';
import { accessTokenTypOk, jwtPrincipalId, principalFromClaims, scopesOf } from '../../../src/auth/access-token-claims.js';

/** The claim rules of JWT access tokens (RFC 9068), without keys or HTTP. */
describe('JWT principal ids', () => {
  it('keep issuer, client and subject apart whatever characters they hold', () => {
    const ids = [
      jwtPrincipalId('https://idp', 'app|x', 'y'),
      jwtPrincipalId('https://idp', 'app', 'x|y'),
      jwtPrincipalId('https://idp|app', 'x', 'y'),
      jwtPrincipalId('https://idp', 'app","x', 'y'),
      jwtPrincipalId('https://idp', 'app', '","x","y'),
      jwtPrincipalId('https://idp', undefined, 'app'),
      jwtPrincipalId('https://idp', 'null', 'app'),
      jwtPrincipalId('https://idp', 'app', 'app'),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect(jwtPrincipalId('https://idp', 'app', 'alice')).toBe('jwt:["https://idp","app","alice"]');
  });

  it('come from iss, client_id and sub of the verified payload', () => {
    expect(principalFromClaims({ iss: 'https://idp', client_id: 'app', sub: 'alice', scope: 'a b' }, 'scope')).toEqual({
      id: 'jwt:["https://idp","app","alice"]',
      kind: 'jwt',
      scopes: new Set(['a', 'b']),
    });
    expect(principalFromClaims({ iss: 'https://idp', sub: 'alice' }, 'scope')?.id).toBe('jwt:["https://idp",null,"alice"]');
    expect(principalFromClaims({ iss: 'https://idp', client_id: 'app' }, 'scope')).toBeUndefined();
    expect(principalFromClaims({ iss: 1, sub: 'alice' }, 'scope')).toBeUndefined();
  });
});

describe('scope claim shapes', () => {
  it('a space-separated string or an array of strings; absent grants nothing; anything else is refused', () => {
    expect(scopesOf('scim:read  scim:write ')).toEqual(new Set(['scim:read', 'scim:write']));
    expect(scopesOf(['scim:read'])).toEqual(new Set(['scim:read']));
    expect(scopesOf(undefined)).toEqual(new Set());
    for (const bad of [1, true, null, {}, ['a', 1], [['a']]]) expect(scopesOf(bad), JSON.stringify(bad)).toBeUndefined();
  });
});

describe('typ', () => {
  it('required: only at+jwt, with or without application/, in any case', () => {
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/AT+jwt']) expect(accessTokenTypOk(typ, true), typ).toBe(true);
    for (const typ of [undefined, 'JWT', 'secevent+jwt', '', 1, null]) expect(accessTokenTypOk(typ, true), String(typ)).toBe(false);
  });

  it('not required: also none and the generic JWT; other kinds of JWT stay refused', () => {
    for (const typ of [undefined, 'JWT', 'jwt', 'application/jwt', 'at+jwt']) expect(accessTokenTypOk(typ, false), String(typ)).toBe(true);
    for (const typ of ['secevent+jwt', 'logout+jwt', 'dpop+jwt', '', 1, null]) expect(accessTokenTypOk(typ, false), String(typ)).toBe(false);
  });
});
