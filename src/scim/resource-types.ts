/**
 * The resource types scimcast serves, and everything that turns a type into a URL path or back:
 * the one place that knows that a User lives at `/Users` (RFC 7644 §3.2: each resource type has
 * its endpoint). A third resource type is one entry in ENDPOINTS plus its schema in
 * schemas/registry.ts, which the compiler then asks for.
 */

/** Resource type name → its endpoint (RFC 7643 §6 `name` and `endpoint`), in the order they are listed. */
export const ENDPOINTS = { User: '/Users', Group: '/Groups' } as const;

export type ResourceTypeName = keyof typeof ENDPOINTS;
export type ResourceEndpoint = (typeof ENDPOINTS)[ResourceTypeName];

/** Every resource type, in ENDPOINTS order (routes, root searches and discovery list them so). */
export const RESOURCE_TYPE_NAMES = Object.keys(ENDPOINTS) as ResourceTypeName[];

/** The type served at `endpoint` ('/Users', 'users'...): endpoints match case-insensitively. */
export function resourceTypeForEndpoint(endpoint: string): ResourceTypeName | undefined {
  const e = `/${endpoint.replace(/^\/+/, '')}`.toLowerCase();
  return RESOURCE_TYPE_NAMES.find((t) => ENDPOINTS[t].toLowerCase() === e);
}

/** Where SCIM resources live under BASE_URL (RFC 7644 §3.13: the versioned base). */
export const scimBase = (baseUrl: string) => `${baseUrl}/scim/v2`;

/** A resource's path below the SCIM base, `/Users/{id}`: also its SCIM subject URI (RFC 9967 §2.1). */
export const resourcePath = (type: ResourceTypeName, id: string) => `${ENDPOINTS[type]}/${id}`;

/** A resource's absolute URL, its `meta.location` (RFC 7643 §3.1). */
export const resourceLocation = (baseUrl: string, type: ResourceTypeName, id: string) => `${scimBase(baseUrl)}${resourcePath(type, id)}`;

/** An operation path read back: the type, and the id when the path names one resource. */
export interface ResourceRef {
  readonly type: ResourceTypeName;
  readonly id: string | undefined;
}

const ALTERNATIVES = RESOURCE_TYPE_NAMES.map((t) => ENDPOINTS[t].slice(1)).join('|');
/** `/Users`, `/Users/{id}`, either with a trailing `/`; any case, like the routes. */
const WHOLE_PATH = new RegExp(`^/(${ALTERNATIVES})(?:/([^/]+))?/?$`, 'i');
/** The same at the start of a longer path. */
const PATH_PREFIX = new RegExp(`^/(${ALTERNATIVES})(?:/([^/]+))?`, 'i');
/** `/Users/{id}` exactly as ENDPOINTS spells it: an SSF subject (RFC 9967 §2.1). */
const SUBJECT_URI = new RegExp(`^/(${ALTERNATIVES})/[^/]+$`);

const refOf = (m: RegExpExecArray | null): ResourceRef | undefined => (m ? { type: resourceTypeForEndpoint(m[1]!)!, id: m[2] } : undefined);

/**
 * A bulk operation's `path` (RFC 7644 §3.7: `/Users` for a POST, `/Users/{id}` otherwise) as a
 * type and id; undefined when it names no endpoint of this server.
 */
export function parseResourcePath(path: string): ResourceRef | undefined {
  return refOf(WHOLE_PATH.exec(path));
}

/**
 * As much of `path` as reads as a resource path, ignoring what follows: for a stored request
 * read back after it failed, whose shape is not trusted, to word its failure results.
 */
export function parseResourcePathPrefix(path: string): ResourceRef | undefined {
  return refOf(PATH_PREFIX.exec(path));
}

/** Whether `uri` names one resource as an SSF subject does: `/Users/{id}`, spelled exactly. */
export const isResourceUri = (uri: string): boolean => SUBJECT_URI.test(uri);
