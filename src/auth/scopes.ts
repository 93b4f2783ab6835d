/** Token scopes (issue 2 §5). `admin` is for operator actions: tokens and keys. */
export const SCOPES = ['scim:read', 'scim:write', 'scim:bulk', 'feeds:admin', 'metrics:read', 'admin'] as const;
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
