export * from './attribute.js';
export * from './registry.js';
export { resourceTypeDocuments, schemaDocuments } from './documents.js';
