import type { RouteScope } from './route-doc.js';

/** The security scheme names of the document. */
export const BEARER = 'bearerAuth';
export const JWT = 'jwtAuth';

/** What the document says about JWT access tokens, when the server accepts them (no key material). */
export interface JwtInfo {
  readonly issuer: string;
  readonly audience: string;
}

/**
 * RFC 6750 bearer tokens: scimcast's opaque tokens always, and RFC 9068 JWT access tokens when an
 * issuer is configured. Both go in the same `Authorization: Bearer` header.
 */
export function securitySchemes(jwt: JwtInfo | undefined): Record<string, unknown> {
  return {
    [BEARER]: {
      type: 'http',
      scheme: 'bearer',
      description: 'An opaque token (`npx scimcast token create --scopes …`). Each operation lists the scope it needs; an operation with no scope listed takes any valid token.',
    },
    ...(jwt
      ? {
          [JWT]: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: `An RFC 9068 access token issued by ${jwt.issuer} for the audience ${jwt.audience}; its scopes come from its scope claim.`,
          },
        }
      : {}),
  };
}

/**
 * An operation's security requirement (OpenAPI 3.1 §4.8.30): none for a public route, any of the
 * schemes for an authenticated one, and the scope as the required role otherwise (3.1 lets a
 * non-OAuth scheme list roles). `x-scope` repeats the route's rule as the server enforces it.
 * A route that declares no scope is for operators only (plugins/auth.ts fails closed to `admin`).
 */
export function operationSecurity(declared: RouteScope | undefined, schemes: readonly string[]): { security: Record<string, string[]>[]; 'x-scope': RouteScope } {
  const scope = declared ?? 'admin';
  if (scope === 'public') return { security: [], 'x-scope': scope };
  const roles = scope === 'authenticated' ? [] : [scope];
  return { security: schemes.map((s) => ({ [s]: roles })), 'x-scope': scope };
}

/** RFC 6750 §3.1 answers the auth plugin gives: 401 without a valid token, 403 without the scope. */
export function authResponses(declared: RouteScope | undefined): Record<string, unknown> {
  const scope = declared ?? 'admin';
  if (scope === 'public') return {};
  return {
    '401': { $ref: '#/components/responses/Unauthorized' },
    ...(scope === 'authenticated' ? {} : { '403': { $ref: '#/components/responses/Forbidden' } }),
  };
}

/** The shared 401 and 403 responses: a SCIM error with a WWW-Authenticate challenge. */
export const AUTH_RESPONSES = {
  Unauthorized: {
    description: 'No token, or one that is invalid, expired or revoked (RFC 6750 §3.1 invalid_token).',
    headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'Bearer realm="scimcast"' } },
    content: { 'application/scim+json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
  Forbidden: {
    description: "The token lacks the operation's scope (RFC 6750 §3.1 insufficient_scope).",
    headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'Bearer realm="scimcast", error="insufficient_scope", scope="…"' } },
    content: { 'application/scim+json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
} as const;
