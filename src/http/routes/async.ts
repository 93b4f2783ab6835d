import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { admitOperation, type Admitted } from '../../async/admission.js';
import type { AsyncDeps } from '../../async/deps.js';
import type { OperationRequest } from '../../provisioning/operation.js';
import type { Preferences } from '../../async/prefer.js';
import { findStatus, listStatuses, statusFilter, statusResource, statusSets } from '../../async/status-queries.js';
import { completeList } from '../../scim/messages/list-response.js';
import { sendOutcome } from '../respond.js';
import { SCIM_CONTENT_TYPE } from '../plugins/scim-json.js';
import { integerParam, queryOf } from '../query.js';
import { described, scimAnswer, scimError } from '../openapi/route-doc.js';

/**
 * RFC 9967 §2.5.1.1 / §3: 202 Accepted, empty body, Set-Txn, Preference-Applied, and a Location
 * where the completion SET can be fetched (the first of the two forms §2.5.1.1 allows). The Accept
 * header is ignored, as §2.5.1.1 requires.
 */
export function sendAccepted(reply: FastifyReply, a: Admitted): FastifyReply {
  return reply
    .code(202)
    // The answer depends on Prefer (RFC 7240 §2).
    .header('vary', 'Prefer')
    .header('set-txn', a.txnId)
    .header('preference-applied', a.applied.join(', '))
    .header('location', a.location)
    .header('retry-after', '1')
    .send();
}

/**
 * A single-resource operation with respond-async (async/admission.ts): 202, or with `wait=N` and
 * finished in time the normal synchronous response without Preference-Applied.
 */
export async function answerAsync(d: AsyncDeps, req: FastifyRequest, reply: FastifyReply, op: OperationRequest, prefs: Preferences) {
  const path = req.url.split('?')[0]!.replace(/^\/scim\/v2/i, '');
  const answer = await admitOperation(d, req.principal!, op, path, prefs, req.log);
  if (answer.kind === 'done') return sendOutcome(reply.header('vary', 'Prefer'), answer.outcome);
  return sendAccepted(reply, answer);
}

/** The status resource and its list (async/status-queries.ts); visible only to the requester. */
export function asyncRoutes(app: FastifyInstance, opts: { async: () => AsyncDeps }) {
  const one = described('authenticated', {
    summary: 'The status of an async request',
    description:
      'RFC 9967 §2.5.1.1: the Location of a 202. Progress and per-operation results as SCIM JSON, or with `Accept: application/secevent+jwt` the completion SET (one operation) or SETs by jti (a bulk). Only the requester sees it.',
    tags: ['Async requests'],
    responses: {
      '200': {
        description: 'The status, or the completion SET(s).',
        headers: ['Retry-After'],
        body: [scimAnswer('AsyncRequest'), { media: ['application/secevent+jwt'] }, { schema: 'AsyncRequestSets', media: ['application/json'] }],
      },
      '202': { description: 'Accept: application/secevent+jwt and not finished yet.', headers: ['Retry-After'] },
      '404': scimError('No such request for this caller, or it has expired.'),
    },
  });
  app.get<{ Params: { id: string } }>('/AsyncRequests/:id', one, async (req, reply) => {
    const d = opts.async();
    const found = await findStatus(d, req.principal!.id, req.params.id);
    if (!found.finished) reply.header('retry-after', '1');
    if (/application\/secevent\+jwt/i.test(req.headers.accept ?? '')) {
      const sets = statusSets(found);
      if (!sets) return reply.code(202).send();
      if (sets.kind === 'single') return reply.type('application/secevent+jwt').send(sets.jws);
      return reply.type('application/json').send({ sets: sets.sets });
    }
    return reply.type(SCIM_CONTENT_TYPE).send(await statusResource(d, found));
  });

  const list = described('authenticated', {
    summary: "The caller's async requests",
    description: 'Newest first, as status summaries without per-operation entries.',
    tags: ['Async requests'],
    parameters: ['asyncStatus', 'count'],
    responses: { '200': { description: 'A list of status summaries.', body: scimAnswer('AsyncRequestListResponse') }, '400': scimError('An unknown status or a bad count.') },
  });
  app.get('/AsyncRequests', list, async (req, reply) => {
    const q = queryOf(req);
    const Resources = await listStatuses(opts.async(), req.principal!.id, { status: statusFilter(q.status), count: integerParam(q, 'count') });
    return reply.type(SCIM_CONTENT_TYPE).send(completeList(Resources));
  });
}
