import { attr, str, type AttributeDef, type SchemaDef } from './attribute.js';
import { ENTERPRISE_USER_URN, enterpriseUserSchema } from './enterprise-user.js';
import { GROUP_URN, groupSchema } from './group.js';
import { USER_URN, userSchema } from './user.js';
import { ENDPOINTS, type ResourceEndpoint, type ResourceTypeName } from '../resource-types.js';

export type { ResourceTypeName };

export interface ResourceTypeDef {
  readonly name: ResourceTypeName;
  readonly endpoint: ResourceEndpoint;
  readonly description: string;
  readonly schema: SchemaDef;
  readonly extensions: readonly SchemaDef[];
}

/** The single source for /Schemas, /ResourceTypes, validation and projection. */
export const RESOURCE_TYPES: Record<ResourceTypeName, ResourceTypeDef> = {
  User: { name: 'User', endpoint: ENDPOINTS.User, description: 'User Account', schema: userSchema, extensions: [enterpriseUserSchema] },
  Group: { name: 'Group', endpoint: ENDPOINTS.Group, description: 'Group', schema: groupSchema, extensions: [] },
};

export const SCHEMAS: readonly SchemaDef[] = [userSchema, groupSchema, enterpriseUserSchema];

/** RFC 7643 §3.1 common attributes: in every resource, not part of any schema's `attributes`. */
export const COMMON_ATTRIBUTES: readonly AttributeDef[] = [
  str('id', 'A unique identifier for a SCIM resource as defined by the service provider.', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  }),
  str('externalId', 'A String that is an identifier for the resource as defined by the provisioning client.', { caseExact: true }),
  attr('meta', 'complex', 'A complex attribute containing resource metadata.', {
    mutability: 'readOnly',
    subAttributes: [
      str('resourceType', 'The name of the resource type of the resource.', { caseExact: true, mutability: 'readOnly' }),
      attr('created', 'dateTime', 'The "DateTime" that the resource was added to the service provider.', { mutability: 'readOnly' }),
      attr('lastModified', 'dateTime', 'The most recent DateTime that the details of this resource were updated at the service provider.', { mutability: 'readOnly' }),
      attr('location', 'reference', 'The URI of the resource being returned.', { mutability: 'readOnly', referenceTypes: ['uri'] }),
      str('version', 'The version of the resource being returned.', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
];

export { USER_URN, GROUP_URN, ENTERPRISE_USER_URN };

export function resourceTypeDef(name: ResourceTypeName): ResourceTypeDef {
  return RESOURCE_TYPES[name];
}

export interface ResolvedAttribute {
  /** The schema URN the attribute belongs to (the core schema for common attributes). */
  readonly schema: string;
  /** True when the attribute lives under its extension URN key in the resource JSON. */
  readonly extension: boolean;
  readonly def: AttributeDef;
  readonly sub: AttributeDef | undefined;
}

const byName = (list: readonly AttributeDef[] | undefined, name: string) => list?.find((a) => a.name.toLowerCase() === name.toLowerCase());

/**
 * Resolve `attr`, `attr.sub`, or a URN-qualified path (`<urn>:attr.sub`) case-insensitively
 * (RFC 7643 §2.1, RFC 7644 §3.10). Returns undefined for unknown attributes.
 */
export function findAttribute(type: ResourceTypeName, path: string): ResolvedAttribute | undefined {
  const rt = RESOURCE_TYPES[type];
  let schema = rt.schema;
  let extension = false;
  let rest = path;
  const all = [rt.schema, ...rt.extensions];
  const qualified = all.find((s) => path.toLowerCase().startsWith(`${s.id.toLowerCase()}:`));
  if (qualified) {
    schema = qualified;
    extension = qualified !== rt.schema;
    rest = path.slice(qualified.id.length + 1);
  }
  const [name, subName, ...more] = rest.split('.');
  if (!name || more.length > 0) return undefined;
  const def = byName(schema.attributes, name) ?? (extension ? undefined : byName(COMMON_ATTRIBUTES, name));
  if (!def) return undefined;
  if (subName === undefined) return { schema: schema.id, extension, def, sub: undefined };
  const sub = byName(def.subAttributes, subName);
  return sub ? { schema: schema.id, extension, def, sub } : undefined;
}
