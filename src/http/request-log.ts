import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * One log line per request at `info`: fastify's default writes two ("incoming request" with the
 * request, "request completed" with the status and duration), which doubled what logging cost per
 * request. The completion line now carries the request too (method, URL with secrets cut out by
 * the `req` serializer, remote address), its status and `responseTime` in ms. "incoming request"
 * stays at `debug`, where a request that never completes can still be traced. Error lines are
 * fastify's, unchanged apart from the request on "request errored".
 */
export class RequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
