import { StreamsClient, type StreamConfig } from './streams-client.js';

/** What a receiver checks every SET of one stream against (RFC 8935 §2.4, RFC 8936 §2.4 / RFC 8417 §2.2). */
export interface SetExpectations {
  issuer: string;
  audience: string;
}

/** The expected iss and aud could not be read from the transmitter. */
export class StreamExpectationsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StreamExpectationsError';
  }
}

/**
 * The `iss` and `aud` a stream's SETs carry, from its SSF stream configuration (OpenID SSF 1.0 §8.1.1: the
 * configuration names both). A stream with several audiences cannot be reduced to the one value
 * a receiver checks, so it is refused rather than guessed.
 */
export function expectationsOf(config: Pick<StreamConfig, 'stream_id' | 'iss' | 'aud'>): SetExpectations {
  const aud = Array.isArray(config.aud) && config.aud.length === 1 ? config.aud[0] : config.aud;
  if (typeof config.iss !== 'string' || config.iss === '') throw new StreamExpectationsError(`stream ${config.stream_id}: its configuration has no "iss"`);
  if (typeof aud !== 'string' || aud === '') throw new StreamExpectationsError(`stream ${config.stream_id}: its configuration has no single "aud"`);
  return { issuer: config.iss, audience: aud };
}

/** Read a stream's configuration with the owner's token and return what its SETs must carry. */
export async function fetchStreamExpectations(opts: { url: string; token: string | undefined; streamId: string }): Promise<SetExpectations> {
  const client = new StreamsClient({ url: opts.url, token: opts.token ?? '' });
  let config: StreamConfig;
  try {
    config = await client.get(opts.streamId);
  } catch (e) {
    throw new StreamExpectationsError(`cannot read the configuration of stream ${opts.streamId} from ${client.origin}: ${(e as Error).message}`, { cause: e });
  }
  if (config === null || typeof config !== 'object') throw new StreamExpectationsError(`stream ${opts.streamId}: the configuration is not a JSON object`);
  return expectationsOf(config);
}

/**
 * scimcast's RFC 8936 endpoint is `<origin>/ssf/streams/<id>/poll`: from such a URL the stream
 * and the server whose configuration endpoint describes it are known.
 */
export function streamOfPollUrl(pollUrl: string): { origin: string; streamId: string } | undefined {
  const m = /^(https?:\/\/[^?#]+?)\/ssf\/streams\/([^/?#]+)\/poll\/?$/i.exec(pollUrl);
  if (!m) return undefined;
  try {
    return { origin: m[1]!, streamId: decodeURIComponent(m[2]!) };
  } catch {
    return undefined;
  }
}
