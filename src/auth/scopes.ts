/**
 * Token scopes, each granting one kind of route (docs/auth.md). `admin` is for operator actions:
 * tokens and keys. `scim:callback` lets
 * an async request name a URL that the server pushes its asyncresp SETs to (Prefer callback="…", a
 * scimcast extension): the server then makes requests to a target the client picks, so it is
 * granted on its own rather than implied by scim:write.
 */
export const SCOPES = ['scim:read', 'scim:write', 'scim:bulk', 'feeds:admin', 'metrics:read', 'admin', 'scim:callback'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

export interface Principal {
  /** Stable owner id: streams and transactions belong to it. */
  readonly id: string;
  readonly kind: 'token' | 'jwt';
  readonly scopes: ReadonlySet<string>;
}

export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes.has(scope);
}
