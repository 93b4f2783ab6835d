import { ASYNC_STATUSES } from '../../async/status-queries.js';
import { SCIM_ERROR_URN, type ScimType } from '../../core/errors.js';
import { BULK_REQUEST_URN, BULK_RESPONSE_URN } from '../../scim/messages/bulk.js';
import { LIST_RESPONSE_URN } from '../../scim/messages/list-response.js';
import { PATCH_OP_URN } from '../../scim/messages/patch-op.js';
import { SEARCH_REQUEST_URN } from '../../scim/messages/search-request.js';
import { RESOURCE_TYPE_NAMES } from '../../scim/resource-types.js';
import { COMMON_ATTRIBUTES, RESOURCE_TYPES, type AttrType, type AttributeDef, type ResourceTypeDef } from '../../scim/schemas/index.js';
import { ref, schemasNaming, strings, type JsonSchema } from './json-schema.js';

/**
 * The SCIM component schemas of the OpenAPI document. Resources are derived from the schema
 * definitions that /Schemas serves (scim/schemas/), so a new attribute or resource type appears
 * here without a second description; the messages (RFC 7644 §3) are written out, as their parsers
 * are code rather than data.
 */

/** RFC 7643 §2.3 data types as JSON Schema. */
const TYPES: Record<AttrType, JsonSchema> = {
  string: { type: 'string' },
  boolean: { type: 'boolean' },
  decimal: { type: 'number' },
  integer: { type: 'integer' },
  dateTime: { type: 'string', format: 'date-time' },
  binary: { type: 'string', contentEncoding: 'base64' },
  reference: { type: 'string', format: 'uri-reference' },
  complex: { type: 'object' },
};

/**
 * One attribute (RFC 7643 §7): its type, sub-attributes and multi-valuedness, with readOnly and
 * writeOnly from its mutability. Attribute names are case-insensitive in SCIM (RFC 7643 §2.1),
 * which JSON Schema cannot say: the properties use the spelling the RFC does.
 */
export function attributeSchema(def: AttributeDef): JsonSchema {
  const one: JsonSchema = def.type === 'complex' ? objectOf(def.subAttributes ?? []) : { ...TYPES[def.type] };
  const shaped: JsonSchema = def.multiValued ? { type: 'array', items: one } : one;
  return {
    ...shaped,
    description: def.description,
    ...(def.mutability === 'readOnly' ? { readOnly: true } : {}),
    ...(def.mutability === 'writeOnly' ? { writeOnly: true } : {}),
  };
}

/**
 * An object of attributes. `required` lists the required attributes a client sends: a required
 * read-only attribute is the server's to set, so a request without it is still valid.
 */
export function objectOf(attrs: readonly AttributeDef[]): JsonSchema {
  const required = attrs.filter((a) => a.required && a.mutability !== 'readOnly').map((a) => a.name);
  const plain = attrs.filter((a) => !a.name.startsWith('$'));
  const dollar = attrs.filter((a) => a.name.startsWith('$'));
  return {
    type: 'object',
    properties: Object.fromEntries(plain.map((a) => [a.name, attributeSchema(a)])),
    // `$ref` (RFC 7643 §2.4, in members and groups) as a property key reads as a JSON reference
    // to many OpenAPI tools, which then fail to resolve it: an anchored pattern says the same.
    ...(dollar.length > 0 ? { patternProperties: Object.fromEntries(dollar.map((a) => [`^\\${a.name}$`, attributeSchema(a)])) } : {}),
    ...(required.length > 0 ? { required } : {}),
  };
}

/** A resource of one type: `schemas`, the common attributes (RFC 7643 §3.1), its own, and each extension under its URN. */
export function resourceSchema(rt: ResourceTypeDef): JsonSchema {
  const base = objectOf([...COMMON_ATTRIBUTES, ...rt.schema.attributes]);
  const extensions = Object.fromEntries(rt.extensions.map((e) => [e.id, { ...ref(e.name), description: e.description }]));
  return {
    ...base,
    description: `${rt.description} (${rt.schema.id})`,
    properties: { schemas: schemasNaming(rt.schema.id), ...(base.properties as object), ...extensions },
    required: ['schemas', ...((base.required as string[] | undefined) ?? [])],
  };
}

/** RFC 7644 §3.4.2 ListResponse of `items`. */
export function listResponseSchema(items: JsonSchema, description: string): JsonSchema {
  return {
    type: 'object',
    description,
    properties: {
      schemas: schemasNaming(LIST_RESPONSE_URN),
      totalResults: { type: 'integer', minimum: 0 },
      itemsPerPage: { type: 'integer', minimum: 0 },
      startIndex: { type: 'integer', minimum: 1, description: 'Index pagination only (RFC 7644 §3.4.2.4).' },
      nextCursor: { type: 'string', description: 'RFC 9865 cursor pagination: the next page.' },
      previousCursor: { type: 'string', description: 'RFC 9865 cursor pagination: the previous page.' },
      Resources: { type: 'array', items },
    },
    required: ['schemas', 'totalResults', 'Resources'],
  };
}

/** RFC 7644 §3.12 Table 9, and the RFC 9865 cursor errors. */
const SCIM_TYPES: readonly ScimType[] = [
  'invalidFilter',
  'tooMany',
  'uniqueness',
  'mutability',
  'invalidSyntax',
  'invalidPath',
  'noTarget',
  'invalidValue',
  'invalidVers',
  'sensitive',
  'invalidCursor',
  'expiredCursor',
];

const errorSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 7644 §3.12 error: `status` is the HTTP status as a string.',
  properties: {
    schemas: schemasNaming(SCIM_ERROR_URN),
    status: { type: 'string', pattern: '^[1-5][0-9][0-9]$' },
    scimType: { type: 'string', enum: SCIM_TYPES },
    detail: { type: 'string' },
  },
  required: ['schemas', 'status'],
};

const searchRequestSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 7644 §3.4.3 query by POST; RFC 9865 `cursor`.',
  properties: {
    schemas: schemasNaming(SEARCH_REQUEST_URN),
    attributes: strings(),
    excludedAttributes: strings(),
    filter: { type: 'string' },
    sortBy: { type: 'string' },
    sortOrder: { type: 'string', enum: ['ascending', 'descending'] },
    startIndex: { type: 'integer' },
    count: { type: 'integer' },
    cursor: { type: 'string' },
  },
  required: ['schemas'],
};

const patchOpSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 7644 §3.5.2 PATCH.',
  properties: {
    schemas: schemasNaming(PATCH_OP_URN),
    Operations: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        properties: { op: { type: 'string', enum: ['add', 'remove', 'replace'] }, path: { type: 'string' }, value: {} },
        required: ['op'],
      },
    },
  },
  required: ['schemas', 'Operations'],
};

const bulkRequestSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 7644 §3.7 bulk request; limits are in /ServiceProviderConfig.',
  properties: {
    schemas: schemasNaming(BULK_REQUEST_URN),
    failOnErrors: { type: 'integer', minimum: 1 },
    Operations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          method: { type: 'string', enum: ['POST', 'PUT', 'PATCH', 'DELETE'] },
          bulkId: { type: 'string' },
          version: { type: 'string' },
          path: { type: 'string', examples: ['/Users', '/Groups/{id}'] },
          data: { type: 'object', description: 'The resource (POST, PUT) or PatchOp (PATCH).' },
        },
        required: ['method', 'path'],
      },
    },
  },
  required: ['schemas', 'Operations'],
};

const bulkResponseSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 7644 §3.7.3 bulk response: one result per processed operation, in request order.',
  properties: {
    schemas: schemasNaming(BULK_RESPONSE_URN),
    Operations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          method: { type: 'string' },
          bulkId: { type: 'string' },
          version: { type: 'string' },
          location: { type: 'string', format: 'uri' },
          status: { type: 'string' },
          response: ref('Error'),
        },
        required: ['method', 'status'],
      },
    },
  },
  required: ['schemas', 'Operations'],
};

const asyncRequestSchema: JsonSchema = {
  type: 'object',
  description: 'The status of a `Prefer: respond-async` request (RFC 9967 §2.5.1.1): progress, and one entry per operation once asked for one request.',
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ASYNC_STATUSES },
    method: { type: 'string' },
    path: { type: 'string' },
    operationsCount: {
      type: 'object',
      properties: { total: { type: 'integer' }, success: { type: 'integer' }, failed: { type: 'integer' }, pending: { type: 'integer' } },
    },
    percentComplete: { type: 'integer', minimum: 0, maximum: 100 },
    created: { type: 'string', format: 'date-time' },
    lastModified: { type: 'string', format: 'date-time' },
    meta: { type: 'object', properties: { resourceType: { const: 'AsyncRequest' }, location: { type: 'string', format: 'uri' } } },
    callback: { type: 'object', description: 'A per-request callback (scimcast extension): where its delivery stands.' },
    operations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer' },
          method: { type: 'string' },
          bulkId: { type: 'string' },
          location: { type: 'string' },
          version: { type: 'string' },
          status: { type: 'string' },
          response: ref('Error'),
          jti: { type: 'string' },
          sets: { type: 'object', additionalProperties: { type: 'string' } },
        },
        required: ['index', 'status'],
      },
    },
  },
  required: ['id', 'status'],
};

const document = (description: string): JsonSchema => ({ type: 'object', description, properties: { schemas: strings() } });

/** Every SCIM component schema by name: the resource types, their lists, the messages, discovery. */
export function scimSchemas(): Record<string, JsonSchema> {
  const types = RESOURCE_TYPE_NAMES.map((n) => RESOURCE_TYPES[n]);
  const resources = Object.fromEntries(types.map((rt) => [rt.name, resourceSchema(rt)]));
  const extensions = Object.fromEntries(types.flatMap((rt) => rt.extensions.map((e) => [e.name, { ...objectOf(e.attributes), description: `${e.description} (${e.id})` }])));
  const lists = Object.fromEntries(types.map((rt) => [`${rt.name}ListResponse`, listResponseSchema(ref(rt.name), `A page of ${rt.name} resources.`)]));
  return {
    ...resources,
    ...extensions,
    ...lists,
    ListResponse: listResponseSchema({ oneOf: types.map((rt) => ref(rt.name)) }, 'A page of resources of any type (a query at the SCIM root).'),
    Error: errorSchema,
    SearchRequest: searchRequestSchema,
    PatchOp: patchOpSchema,
    BulkRequest: bulkRequestSchema,
    BulkResponse: bulkResponseSchema,
    AsyncRequest: asyncRequestSchema,
    AsyncRequestSets: {
      type: 'object',
      description: "A bulk request's completion SETs by jti, each a signed JWS (RFC 9967 §2.5.1.1).",
      properties: { sets: { type: 'object', additionalProperties: { type: 'string' } } },
      required: ['sets'],
    },
    AsyncRequestListResponse: listResponseSchema(ref('AsyncRequest'), "The caller's async requests, newest first, without per-operation entries."),
    ServiceProviderConfig: document('RFC 7643 §5 service provider configuration.'),
    ResourceType: document('RFC 7643 §6 resource type.'),
    ResourceTypeListResponse: listResponseSchema(ref('ResourceType'), 'Every resource type.'),
    Schema: document('RFC 7643 §7 schema definition.'),
    SchemaListResponse: listResponseSchema(ref('Schema'), 'Every schema.'),
  };
}
