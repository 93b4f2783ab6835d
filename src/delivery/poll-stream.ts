import { notFound } from '../core/errors.js';
import { POLL_METHOD } from '../core/delivery-methods.js';
import { poll, type PollDeps, type PollResponse } from './poll.js';
import { parsePollRequest } from './poll-request.js';

/**
 * One RFC 8936 poll of a stream by its owner: a stream of another principal, or one that does not
 * deliver by poll, is indistinguishable from a missing one (404). The stream is looked up before
 * the body is read, so a stranger learns nothing from a 400. `signal` ends a long poll early (the
 * client went away).
 */
export async function pollStream(d: PollDeps, owner: string, streamId: string, body: unknown, signal: AbortSignal): Promise<PollResponse> {
  const feed = await d.storage.feeds.get(streamId);
  if (!feed || feed.owner !== owner || feed.deliveryMethod !== POLL_METHOD) throw notFound(`poll stream ${streamId} not found`);
  return poll(d, feed, parsePollRequest(body), signal);
}
