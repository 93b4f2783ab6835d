import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PollDeps } from '../../delivery/poll.js';
import { pollStream } from '../../delivery/poll-stream.js';
import { jwksDocument } from '../../events/key-store.js';
import { deadLetters, redrive, replay, streamStats } from '../../feeds/operator.js';
import { ssfConfiguration } from '../../feeds/ssf-configuration.js';
import {
  changeSubject,
  createStream,
  deleteStream,
  getStatus,
  getStreams,
  setStatus,
  updateStream,
  verifyStream,
  type StreamsCtx,
} from '../../feeds/streams.js';
import { integerParam, queryOf } from '../query.js';
import { described, jsonBody, scimError, type ResponseDoc, type RouteDoc } from '../openapi/route-doc.js';

const STREAMS = ['SSF streams'];
const OPERATOR = ['SSF operator'];
const noStream = scimError('No such stream for this caller (another owner\'s stream is not found either).');
const invalid = scimError('The body is invalid.');
const json = (description: string, schema: string): ResponseDoc => ({ description, body: jsonBody(schema) });

/** A stream-management route: feeds:admin, and a 404 for a stream the caller does not own. */
const admin = (doc: RouteDoc) => described('feeds:admin', { ...doc, responses: { ...doc.responses, '404': noStream } });

const ownerOf = (req: FastifyRequest) => req.principal!.id;
const streamIdOf = (req: FastifyRequest) => queryOf(req).stream_id;

/**
 * OpenID SSF 1.0 stream management (§7 discovery, §8.1 streams) and RFC 8936 poll. Streams belong to the
 * principal that made them; other principals get 404 for them.
 */
export function ssfRoutes(app: FastifyInstance, opts: { streams: () => StreamsCtx; poll: () => PollDeps }) {
  const metadata = described('public', {
    summary: 'SSF transmitter configuration',
    description: 'OpenID SSF 1.0 §7.1: where a receiver finds the keys, the delivery methods and the stream endpoints.',
    tags: STREAMS,
    responses: { '200': json('The transmitter metadata.', 'SsfConfiguration') },
  });
  app.get('/.well-known/ssf-configuration', metadata, async () => ssfConfiguration(opts.streams().baseUrl));

  const jwks = described('public', {
    summary: 'SET signing keys',
    description: 'The public keys that verify the SETs this server signs (RFC 7517 JWK Set).',
    tags: STREAMS,
    responses: { '200': { description: 'The JWK Set.', body: { schema: 'JwkSet', media: ['application/jwk-set+json'] } } },
  });
  app.get('/jwks.json', jwks, async (_req, reply) => reply.type('application/jwk-set+json').send(await jwksDocument(opts.streams().storage)));

  const config = (description: string) => json(description, 'StreamConfiguration');
  const create = admin({
    summary: 'Create a stream',
    description: 'OpenID SSF 1.0 §8.1.1.1: push (RFC 8935) to `delivery.endpoint_url`, or poll (RFC 8936) at the `endpoint_url` answered.',
    tags: STREAMS,
    body: jsonBody('StreamConfiguration'),
    responses: { '201': config('The stream, with its `stream_id`.'), '400': invalid },
  });
  app.post('/ssf/streams', create, async (req, reply) => reply.code(201).send(await createStream(opts.streams(), ownerOf(req), req.body)));
  const read = admin({
    summary: 'Read streams',
    description: 'OpenID SSF 1.0 §8.1.1.2: one stream with `stream_id`, else all of the caller\'s.',
    tags: STREAMS,
    parameters: ['streamId'],
    responses: { '200': { description: 'The stream, or a list of them.', body: [jsonBody('StreamConfiguration'), jsonBody('StreamConfigurations')] } },
  });
  app.get('/ssf/streams', read, async (req) => getStreams(opts.streams(), ownerOf(req), streamIdOf(req)));
  const readOne = admin({ summary: 'Read a stream', tags: STREAMS, responses: { '200': config('The stream.') } });
  app.get<{ Params: { id: string } }>('/ssf/streams/:id', readOne, async (req) => getStreams(opts.streams(), ownerOf(req), req.params.id));
  const update = (summary: string, description: string) =>
    admin({ summary, description, tags: STREAMS, body: jsonBody('StreamConfiguration'), responses: { '200': config('The stream as it is now.'), '400': invalid } });
  app.patch('/ssf/streams', update('Update a stream', 'OpenID SSF 1.0 §8.1.1.3: the members sent replace theirs; `stream_id` names the stream.'), async (req) => updateStream(opts.streams(), ownerOf(req), req.body, 'patch'));
  app.put('/ssf/streams', update('Replace a stream', 'OpenID SSF 1.0 §8.1.1.4: members not sent are reset; `stream_id` names the stream.'), async (req) => updateStream(opts.streams(), ownerOf(req), req.body, 'put'));
  const remove = admin({ summary: 'Delete a stream', description: 'OpenID SSF 1.0 §8.1.1.5.', tags: STREAMS, parameters: ['streamId'], responses: { '204': { description: 'Deleted.' } } });
  app.delete('/ssf/streams', remove, async (req, reply) => {
    await deleteStream(opts.streams(), ownerOf(req), streamIdOf(req));
    return reply.code(204).send();
  });

  const status = json('The stream\'s status.', 'StreamStatus');
  const getStatusDoc = admin({ summary: 'Read a stream\'s status', description: 'OpenID SSF 1.0 §8.1.2.1.', tags: STREAMS, parameters: ['streamId'], responses: { '200': status } });
  app.get('/ssf/status', getStatusDoc, async (req) => getStatus(opts.streams(), ownerOf(req), streamIdOf(req)));
  const setStatusDoc = admin({
    summary: 'Enable, pause or disable a stream',
    description: 'OpenID SSF 1.0 §8.1.2.2: a paused stream keeps its SETs; a disabled one drops new ones.',
    tags: STREAMS,
    body: jsonBody('StreamStatus'),
    responses: { '200': status, '400': invalid },
  });
  app.post('/ssf/status', setStatusDoc, async (req) => setStatus(opts.streams(), ownerOf(req), req.body));
  const verify = admin({
    summary: 'Ask for a verification SET',
    description: 'OpenID SSF 1.0 §8.1.4: a verification event with `state` is delivered through the stream.',
    tags: STREAMS,
    body: jsonBody('VerificationRequest'),
    responses: { '204': { description: 'The verification SET is queued.' }, '400': invalid },
  });
  app.post('/ssf/verify', verify, async (req, reply) => {
    await verifyStream(opts.streams(), ownerOf(req), req.body);
    return reply.code(204).send();
  });
  const subject = (summary: string, status: string) =>
    admin({
      summary,
      description: 'OpenID SSF 1.0 §8.1.3; with `default_subjects: NONE`, a stream gets events about its added subjects only.',
      tags: STREAMS,
      body: jsonBody('SubjectChange'),
      responses: { [status]: { description: 'Done.' }, '400': invalid },
    });
  app.post('/ssf/subjects/add', subject('Add a subject to a stream', '200'), async (req, reply) => {
    await changeSubject(opts.streams(), ownerOf(req), req.body, 'add');
    return reply.code(200).send();
  });
  app.post('/ssf/subjects/remove', subject('Remove a subject from a stream', '204'), async (req, reply) => {
    await changeSubject(opts.streams(), ownerOf(req), req.body, 'remove');
    return reply.code(204).send();
  });

  /** Operator API (docs/events-and-streams.md): where a stream's SETs stand, dead letters, redrive and replay. */
  type ById = { Params: { id: string } };
  const stats = admin({ summary: "Where a stream's SETs stand", description: 'Counts by state, the age of the oldest pending SET, the last error.', tags: OPERATOR, responses: { '200': json('The stream\'s figures.', 'StreamStats') } });
  app.get<ById>('/ssf/streams/:id/stats', stats, async (req) => streamStats(opts.streams(), ownerOf(req), req.params.id));
  const dead = admin({ summary: "A stream's dead letters", description: 'SETs that failed delivery for good, with their last error.', tags: OPERATOR, parameters: ['limit'], responses: { '200': json('The dead letters.', 'DeadLetters') } });
  app.get<ById>('/ssf/streams/:id/dead', dead, async (req) => deadLetters(opts.streams(), ownerOf(req), req.params.id, integerParam(queryOf(req), 'limit') ?? 100));
  const requeue = (summary: string, description: string) =>
    admin({ summary, description, tags: OPERATOR, body: jsonBody('RequeueSelector'), responses: { '200': json('How many SETs were requeued.', 'RequeueResult'), '400': invalid } });
  const redriveDoc = requeue('Redrive dead letters', 'Requeue dead SETs (same bytes, jti and order) for delivery again.');
  app.post<ById>('/ssf/streams/:id/redrive', redriveDoc, async (req) => redrive(opts.streams(), ownerOf(req), req.params.id, req.body));
  const replayDoc = requeue('Replay delivered SETs', 'Requeue SETs already delivered or acknowledged, for a receiver that lost them.');
  app.post<ById>('/ssf/streams/:id/replay', replayDoc, async (req) => replay(opts.streams(), ownerOf(req), req.params.id, req.body));

  /** RFC 8936 poll endpoint of one stream: the owner's token, whatever its scopes. */
  const poll = described('authenticated', {
    summary: 'Poll a stream for SETs',
    description: "RFC 8936: acknowledge SETs, report errors and receive pending ones, long-polling unless `returnImmediately`. The stream owner's token, whatever its scopes.",
    tags: ['SSF poll'],
    body: { ...jsonBody('PollRequest'), required: false },
    responses: { '200': json('Pending SETs by jti.', 'PollResponse'), '400': scimError('The poll request is invalid.'), '404': noStream },
  });
  app.post<{ Params: { id: string } }>('/ssf/streams/:id/poll', poll, async (req, reply) => {
    const abort = new AbortController();
    req.raw.once('close', () => abort.abort());
    const res = await pollStream(opts.poll(), ownerOf(req), req.params.id, req.body, abort.signal);
    // Already JSON bytes: fastify writes a Buffer as it is, without serialising it again.
    return reply.type('application/json; charset=utf-8').send(res.body);
  });
}
