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

const ownerOf = (req: FastifyRequest) => req.principal!.id;
const streamIdOf = (req: FastifyRequest) => queryOf(req).stream_id;

/**
 * OpenID SSF 1.0 stream management (§7 discovery, §8.1 streams) and RFC 8936 poll. Streams belong to the
 * principal that made them; other principals get 404 for them.
 */
export function ssfRoutes(app: FastifyInstance, opts: { streams: () => StreamsCtx; poll: () => PollDeps }) {
  const admin = { config: { scope: 'feeds:admin' as const } };
  const pub = { config: { scope: 'public' as const } };

  app.get('/.well-known/ssf-configuration', pub, async () => ssfConfiguration(opts.streams().baseUrl));

  app.get('/jwks.json', pub, async (_req, reply) => reply.type('application/jwk-set+json').send(await jwksDocument(opts.streams().storage)));

  app.post('/ssf/streams', admin, async (req, reply) => reply.code(201).send(await createStream(opts.streams(), ownerOf(req), req.body)));
  app.get('/ssf/streams', admin, async (req) => getStreams(opts.streams(), ownerOf(req), streamIdOf(req)));
  app.get<{ Params: { id: string } }>('/ssf/streams/:id', admin, async (req) => getStreams(opts.streams(), ownerOf(req), req.params.id));
  app.patch('/ssf/streams', admin, async (req) => updateStream(opts.streams(), ownerOf(req), req.body, 'patch'));
  app.put('/ssf/streams', admin, async (req) => updateStream(opts.streams(), ownerOf(req), req.body, 'put'));
  app.delete('/ssf/streams', admin, async (req, reply) => {
    await deleteStream(opts.streams(), ownerOf(req), streamIdOf(req));
    return reply.code(204).send();
  });

  app.get('/ssf/status', admin, async (req) => getStatus(opts.streams(), ownerOf(req), streamIdOf(req)));
  app.post('/ssf/status', admin, async (req) => setStatus(opts.streams(), ownerOf(req), req.body));
  app.post('/ssf/verify', admin, async (req, reply) => {
    await verifyStream(opts.streams(), ownerOf(req), req.body);
    return reply.code(204).send();
  });
  app.post('/ssf/subjects/add', admin, async (req, reply) => {
    await changeSubject(opts.streams(), ownerOf(req), req.body, 'add');
    return reply.code(200).send();
  });
  app.post('/ssf/subjects/remove', admin, async (req, reply) => {
    await changeSubject(opts.streams(), ownerOf(req), req.body, 'remove');
    return reply.code(204).send();
  });

  /** Operator API (docs/events-and-streams.md): where a stream's SETs stand, dead letters, redrive and replay. */
  type ById = { Params: { id: string } };
  app.get<ById>('/ssf/streams/:id/stats', admin, async (req) => streamStats(opts.streams(), ownerOf(req), req.params.id));
  app.get<ById>('/ssf/streams/:id/dead', admin, async (req) => deadLetters(opts.streams(), ownerOf(req), req.params.id, integerParam(queryOf(req), 'limit') ?? 100));
  app.post<ById>('/ssf/streams/:id/redrive', admin, async (req) => redrive(opts.streams(), ownerOf(req), req.params.id, req.body));
  app.post<ById>('/ssf/streams/:id/replay', admin, async (req) => replay(opts.streams(), ownerOf(req), req.params.id, req.body));

  /** RFC 8936 poll endpoint of one stream: the owner's token, whatever its scopes. */
  app.post<{ Params: { id: string } }>('/ssf/streams/:id/poll', { config: { scope: 'authenticated' } }, async (req, reply) => {
    const abort = new AbortController();
    req.raw.once('close', () => abort.abort());
    const res = await pollStream(opts.poll(), ownerOf(req), req.params.id, req.body, abort.signal);
    // Already JSON bytes: fastify writes a Buffer as it is, without serialising it again.
    return reply.type('application/json; charset=utf-8').send(res.body);
  });
}
