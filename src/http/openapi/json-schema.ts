/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1 §4.8.24) as plain data. */
export type JsonSchema = { readonly [key: string]: unknown };

/** A reference to a named schema of the document's `components.schemas`. */
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** An array of strings: the shape of `schemas`, `attributes`, `events_requested`… */
export const strings = (description?: string): JsonSchema => ({ type: 'array', items: { type: 'string' }, ...(description ? { description } : {}) });

/** A `schemas` member that must name `urn` (RFC 7644 §3.1: every SCIM message names its schema). */
export const schemasNaming = (urn: string): JsonSchema => ({ type: 'array', items: { type: 'string' }, contains: { const: urn }, examples: [[urn]] });
