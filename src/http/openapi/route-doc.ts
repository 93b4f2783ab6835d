import type { Scope } from '../../auth/scopes.js';
import type { HeaderName, ParameterName } from './parameters.js';

/**
 * What a route says about itself for GET /openapi.json. Every route is registered with
 * `described(scope, doc)`, so its access rule and its description travel together in one options
 * object: the document is generated from the routes the server really has, and the route walk in
 * test/integration/openapi.test.ts fails for a route registered without a description.
 */

/** Who may call a route: a scope, `public` (no token) or `authenticated` (any valid token). */
export type RouteScope = Scope | 'public' | 'authenticated';

/** A media type and the component schema (`components.schemas` name) its body follows. */
export interface BodyDoc {
  /** Name in `components.schemas`; omitted for a body with no fixed shape (text, a JWS). */
  readonly schema?: string;
  /** Media types, the preferred one first. */
  readonly media: readonly string[];
}

export interface ResponseDoc {
  readonly description: string;
  readonly body?: BodyDoc | readonly BodyDoc[];
  /** Names in `components.headers`: the response headers a client relies on. */
  readonly headers?: readonly HeaderName[];
}

export interface RouteDoc {
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  /** Names in `components.parameters` (query and header parameters); path parameters come from the path. */
  readonly parameters?: readonly ParameterName[];
  readonly body?: BodyDoc & { readonly required?: boolean; readonly description?: string };
  /** By status code. 401 and 403 are added from the scope, so they are not listed here. */
  readonly responses: Readonly<Record<string, ResponseDoc>>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's OpenAPI description (`described`); GET /openapi.json is built from these. */
    openapi?: RouteDoc;
  }
}

/** RFC 7644 §3.1: SCIM messages are `application/scim+json`; `application/json` is accepted too. */
export const SCIM_MEDIA = ['application/scim+json', 'application/json'] as const;
export const JSON_MEDIA = ['application/json'] as const;

/** A SCIM request body: both accepted media types, the SCIM one first. */
export const scimBody = (schema: string): BodyDoc => ({ schema, media: SCIM_MEDIA });
/** A SCIM response: the server answers `application/scim+json`. */
export const scimAnswer = (schema: string): BodyDoc => ({ schema, media: ['application/scim+json'] });
export const jsonBody = (schema: string): BodyDoc => ({ schema, media: JSON_MEDIA });

/**
 * Route options carrying the scope the auth plugin enforces and the route's description. Spread
 * it into a route's options (`app.get(url, described('scim:read', {...}), handler)`), adding
 * other options beside it when the route needs them.
 */
export function described<S extends RouteScope>(scope: S, doc: RouteDoc): { config: { scope: S; openapi: RouteDoc } } {
  return { config: { scope, openapi: doc } };
}

/** A SCIM error answer (RFC 7644 §3.12) for the reason given. */
export const scimError = (description: string): ResponseDoc => ({ description, body: scimAnswer('Error') });

/** RFC 9967 §2.5.1.1: `Prefer: respond-async` admitted, no body; the status is at Location. */
export const ACCEPTED: ResponseDoc = {
  description: 'Accepted for asynchronous processing (`Prefer: respond-async`): the status resource is at Location.',
  headers: ['Set-Txn', 'Location', 'Preference-Applied', 'Retry-After'],
};
