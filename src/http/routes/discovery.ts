import type { FastifyInstance } from 'fastify';
import { ScimError, notFound } from '../../core/errors.js';
import { resourceTypeDocuments, schemaDocuments, type SchemaOptions } from '../../scim/schemas/index.js';
import { serviceProviderConfig, type Capabilities } from '../../scim/service-provider-config.js';
import { completeList } from '../../scim/messages/list-response.js';
import { SCIM_CONTENT_TYPE } from '../plugins/scim-json.js';
import { described, scimAnswer, type ResponseDoc } from '../openapi/route-doc.js';

const notFoundAnswer: ResponseDoc = { description: 'No such entry.', body: scimAnswer('Error') };
const filterRefused: ResponseDoc = { description: 'A `filter` was sent: discovery endpoints do not filter (RFC 7644 §4).', body: scimAnswer('Error') };

/** A public discovery document (RFC 7644 §4). */
const discovery = (summary: string, schema: string, more: Record<string, ResponseDoc> = {}) =>
  described('public', { summary, tags: ['SCIM discovery'], responses: { '200': { description: summary, body: scimAnswer(schema) }, ...more } });

/**
 * Discovery (RFC 7644 §4). Public, as RFC 7643 §5 suggests for authenticationSchemes; query
 * parameters are ignored and a filter is refused with 403 (RFC 7644 §4).
 */
export function discoveryRoutes(app: FastifyInstance, opts: { baseUrl: string; capabilities: () => Capabilities; coreServiceProviderConfig: boolean; schemas?: SchemaOptions }) {
  const refuseFilter = (q: unknown) => {
    if (q && typeof q === 'object' && 'filter' in q) throw new ScimError(403, undefined, 'Filtering is not supported on discovery endpoints');
  };
  app.get('/ServiceProviderConfig', discovery('Service provider configuration', 'ServiceProviderConfig', { '403': filterRefused }), async (req, reply) => {
    refuseFilter(req.query);
    return reply.type(SCIM_CONTENT_TYPE).send(serviceProviderConfig(opts.baseUrl, opts.capabilities(), { core: opts.coreServiceProviderConfig }));
  });
  app.get('/ResourceTypes', discovery('Every resource type', 'ResourceTypeListResponse', { '403': filterRefused }), async (req, reply) => {
    refuseFilter(req.query);
    return reply.type(SCIM_CONTENT_TYPE).send(completeList(resourceTypeDocuments(opts.baseUrl)));
  });
  app.get<{ Params: { name: string } }>('/ResourceTypes/:name', discovery('One resource type, by name', 'ResourceType', { '404': notFoundAnswer }), async (req, reply) => {
    const doc = resourceTypeDocuments(opts.baseUrl).find((d) => String(d.id).toLowerCase() === req.params.name.toLowerCase());
    if (!doc) throw notFound(`ResourceType ${req.params.name} not found`);
    return reply.type(SCIM_CONTENT_TYPE).send(doc);
  });
  app.get('/Schemas', discovery('Every schema', 'SchemaListResponse', { '403': filterRefused }), async (req, reply) => {
    refuseFilter(req.query);
    return reply.type(SCIM_CONTENT_TYPE).send(completeList(schemaDocuments(opts.baseUrl, opts.schemas)));
  });
  app.get<{ Params: { id: string } }>('/Schemas/:id', discovery('One schema, by URN', 'Schema', { '404': notFoundAnswer }), async (req, reply) => {
    const doc = schemaDocuments(opts.baseUrl, opts.schemas).find((d) => String(d.id).toLowerCase() === req.params.id.toLowerCase());
    if (!doc) throw notFound(`Schema ${req.params.id} not found`);
    return reply.type(SCIM_CONTENT_TYPE).send(doc);
  });
}
