import type { FastifyInstance, FastifyReply } from 'fastify';
import { admitAndWait } from '../../async/admission.js';
import type { AsyncDeps } from '../../async/deps.js';
import type { OperationResult } from '../../provisioning/operation.js';
import { parsePrefer } from '../../async/prefer.js';
import { executeBulk } from '../../bulk/run.js';
import { makeSyncExecutor } from '../../bulk/sync-executor.js';
import type { ProvisioningCtx } from '../../provisioning/context.js';
import { bulkResponseOf, parseBulkRequest } from '../../scim/messages/bulk.js';
import { SCIM_CONTENT_TYPE } from '../plugins/scim-json.js';
import { sendAccepted } from './async.js';
import { ACCEPTED, described, scimAnswer, scimBody, scimError } from '../openapi/route-doc.js';

const BULK_DOC = described('scim:bulk', {
  summary: 'Many operations in one request',
  description:
    'RFC 7644 §3.7: POST, PUT, PATCH and DELETE on Users and Groups, with bulkId references and failOnErrors. `Prefer: respond-async` runs it in the background (RFC 9967 §2.5.1.2); `wait=N` answers 200 when it finishes in time.',
  tags: ['Bulk'],
  parameters: ['Prefer'],
  body: scimBody('BulkRequest'),
  responses: {
    '200': { description: 'One result per processed operation, in request order.', body: scimAnswer('BulkResponse') },
    '202': ACCEPTED,
    '400': scimError('The request is invalid, or has more operations than maxOperations (scimType tooMany).'),
    '413': scimError('The body is larger than maxPayloadSize.'),
  },
});

/** 200 with one result per processed operation, in request order (RFC 7644 §3.7.3). */
function sendBulkResponse(reply: FastifyReply, results: ReadonlyMap<number, OperationResult>, skipped: ReadonlySet<number>) {
  return reply.code(200).type(SCIM_CONTENT_TYPE).send(bulkResponseOf(results, skipped));
}

/**
 * POST /Bulk (RFC 7644 §3.7). Limits are checked before any work (§3.7.4): the body limit while
 * reading (413 without buffering it all), maxOperations on parse. With Prefer: respond-async the
 * request is admitted and answered 202 (RFC 9967 §2.5.1.2), or 200 if it finishes within `wait=N`
 * seconds (RFC 7240 §4.3); otherwise it runs now and answers 200.
 */
export function bulkRoutes(
  app: FastifyInstance,
  opts: { ctx: () => ProvisioningCtx; async: () => AsyncDeps; maxOperations: number; maxPayloadSize: number; txn: () => string },
) {
  app.post('/Bulk', { ...BULK_DOC, bodyLimit: opts.maxPayloadSize }, async (req, reply) => {
    const bulk = parseBulkRequest(req.body, { maxOperations: opts.maxOperations });
    const prefs = parsePrefer(req.headers.prefer, req.headers['x-scim-request-mode']);
    // Whether the answer is a 202 or a BulkResponse depends on Prefer (RFC 7240 §2).
    reply.header('vary', 'Prefer');
    if (prefs.respondAsync) {
      const d = opts.async();
      const admitted = await admitAndWait(d, req.principal!, { kind: 'bulk', method: 'POST', path: '/Bulk', request: req.body, opCount: bulk.operations.length }, prefs, req.log);
      const inline = admitted.run;
      // wait=N and finished in time (RFC 7240 §4.3): the BulkResponse a synchronous request gets,
      // without the operations skipped after failOnErrors (their asyncresp SETs still go out).
      if (inline?.kind === 'bulk') return sendBulkResponse(reply, inline.run.results, inline.run.skipped);
      return sendAccepted(reply, admitted);
    }
    const run = await executeBulk(bulk, makeSyncExecutor(opts.ctx(), opts.txn()), { skipped: 'omit' });
    return sendBulkResponse(reply, run.results, run.skipped);
  });
}
