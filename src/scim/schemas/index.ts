export * from './attribute.js';
export * from './registry.js';
export { resourceTypeDocuments, schemaDocuments, type SchemaOptions } from './documents.js';
