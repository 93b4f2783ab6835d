import type { AttributeDef, SchemaDef } from './attribute.js';
import { groupSchemaWithNamedMemberDisplay } from './group.js';
import { GROUP_URN, RESOURCE_TYPES, SCHEMAS } from './registry.js';

const SCHEMA_URN = 'urn:ietf:params:scim:schemas:core:2.0:Schema';
const RESOURCE_TYPE_URN = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';

/** Every characteristic present, in RFC 7643 §7 order. */
function attributeDocument(a: AttributeDef): Record<string, unknown> {
  const out: Record<string, unknown> = { name: a.name, type: a.type, multiValued: a.multiValued, description: a.description, required: a.required };
  if (a.canonicalValues) out.canonicalValues = [...a.canonicalValues];
  if (a.type !== 'complex' && a.type !== 'boolean') out.caseExact = a.caseExact;
  out.mutability = a.mutability;
  out.returned = a.returned;
  if (a.type !== 'complex' && a.type !== 'boolean') out.uniqueness = a.uniqueness;
  if (a.referenceTypes) out.referenceTypes = [...a.referenceTypes];
  if (a.subAttributes) out.subAttributes = a.subAttributes.map(attributeDocument);
  return out;
}

function schemaDocument(baseUrl: string, s: SchemaDef): Record<string, unknown> {
  return {
    schemas: [SCHEMA_URN],
    id: s.id,
    name: s.name,
    description: s.description,
    attributes: s.attributes.map(attributeDocument),
    meta: { resourceType: 'Schema', location: `${baseUrl}/scim/v2/Schemas/${s.id}` },
  };
}

/** What the configuration changes in /Schemas. */
export interface SchemaOptions {
  /** SCIMCAST_COMPAT_MEMBER_DISPLAY: members.display is filled in by the server. */
  readonly memberDisplay?: boolean | undefined;
}

/** GET /Schemas (RFC 7643 §7, §8.7.1). */
export function schemaDocuments(baseUrl: string, opts: SchemaOptions = {}): Record<string, unknown>[] {
  return SCHEMAS.map((s) => schemaDocument(baseUrl, s.id === GROUP_URN && opts.memberDisplay ? groupSchemaWithNamedMemberDisplay() : s));
}

/** GET /ResourceTypes (RFC 7643 §6, §8.6). */
export function resourceTypeDocuments(baseUrl: string): Record<string, unknown>[] {
  return Object.values(RESOURCE_TYPES).map((rt) => ({
    schemas: [RESOURCE_TYPE_URN],
    id: rt.name,
    name: rt.name,
    endpoint: rt.endpoint,
    description: rt.description,
    schema: rt.schema.id,
    schemaExtensions: rt.extensions.map((e) => ({ schema: e.id, required: false })),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/scim/v2/ResourceTypes/${rt.name}` },
  }));
}
