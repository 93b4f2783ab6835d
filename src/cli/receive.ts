import { parseArgs } from 'node:util';
import { ndjsonFile, ndjsonStream } from '../client/ndjson-output.js';
import { PollRequestError } from '../client/poll-loop.js';
import { JwksUnavailableError } from '../client/jwks-source.js';
import { SetReceiver, type ReceiveOutcome } from '../client/set-receiver.js';
import { fetchStreamExpectations, StreamExpectationsError, streamOfPollUrl, type SetExpectations } from '../client/stream-expectations.js';
import { serverOrigin } from '../client/streams-client.js';
import { clientSettings } from '../config/client.js';
import { AppError } from '../core/errors.js';

/**
 * `scimcast receive`: an RFC 8936 poll client or an RFC 8935 push endpoint that verifies every
 * SET against the transmitter's JWKS and writes the accepted ones as NDJSON (docs/cli.md, "scimcast
 * receive"). stdout carries only NDJSON; progress, warnings and rejections go to stderr.
 *
 * Every SET's `iss` and `aud` are checked (RFC 8935 §2.4, RFC 8936 §2.4): against --iss / --aud,
 * or else against the stream's own configuration, read from the server (--poll STREAM_ID, a
 * scimcast poll URL, or --stream ID). Without either the receiver does not start: it would take
 * any stream's SETs signed with the transmitter's keys.
 */
export const RECEIVE_USAGE = `  scimcast receive (--poll URL|STREAM_ID | --listen PORT) [--stream ID | --iss ISS --aud AUD] [--jwks URL]
                   [--out FILE] [--once] [--max N] [--max-events N] [--auth TOKEN] [--host H] [--path P] [--quiet]
                                      verify SETs and write them as NDJSON (stdout or --out, appended).
                                      Each SET's iss and aud must be the stream's: read from its configuration
                                      (--poll STREAM_ID, a scimcast poll URL, or --stream ID, with --url/--token)
                                      unless given with --iss and --aud; --listen needs --stream or both flags.`;

const usage = (msg: string) => new AppError('ERR_CONFIG_INVALID', `${msg}\nUsage:\n${RECEIVE_USAGE}`);

function intOf(name: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw usage(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

const log = (line: string) => void process.stderr.write(`scimcast receive: ${line}\n`);

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        poll: { type: 'string' },
        listen: { type: 'string' },
        jwks: { type: 'string' },
        iss: { type: 'string' },
        aud: { type: 'string' },
        stream: { type: 'string' },
        out: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        auth: { type: 'string' },
        host: { type: 'string' },
        path: { type: 'string' },
        once: { type: 'boolean', default: false },
        max: { type: 'string' },
        'max-events': { type: 'string' },
        dedupe: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`scimcast receive: ${(e as Error).message}\nUsage:\n${RECEIVE_USAGE}\n`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`Usage:\n${RECEIVE_USAGE}\n`);
    return 0;
  }
  try {
    return await receive(v);
  } catch (e) {
    if (e instanceof AppError && e.code === 'ERR_CONFIG_INVALID') {
      process.stderr.write(`scimcast receive: ${e.message}\n`);
      return 2;
    }
    if (e instanceof StreamExpectationsError) {
      log(`${e.message} (or give the expected values with --iss and --aud)`);
      return 1;
    }
    if (e instanceof PollRequestError || e instanceof JwksUnavailableError || (e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      log((e as Error).message);
      return 1;
    }
    throw e;
  }
}

type Values = {
  poll?: string | undefined;
  listen?: string | undefined;
  jwks?: string | undefined;
  iss?: string | undefined;
  aud?: string | undefined;
  stream?: string | undefined;
  out?: string | undefined;
  url?: string | undefined;
  token?: string | undefined;
  auth?: string | undefined;
  host?: string | undefined;
  path?: string | undefined;
  once?: boolean | undefined;
  max?: string | undefined;
  'max-events'?: string | undefined;
  dedupe?: string | undefined;
  quiet?: boolean | undefined;
};

async function receive(v: Values): Promise<number> {
  if ((v.poll === undefined) === (v.listen === undefined)) throw usage('give exactly one of --poll URL or --listen PORT');
  const settings = clientSettings({ url: v.url, token: v.token });
  const origin = settings.url ? serverOrigin(settings.url) : undefined;
  const jwksUrl = v.jwks ?? (origin ? `${origin}/jwks.json` : undefined);
  if (!jwksUrl) throw usage('--jwks URL is required (or --url / SCIMCAST_URL, whose /jwks.json is used)');
  // A bare stream id names the stream's poll endpoint on the configured server.
  const pollUrl = v.poll === undefined || /^https?:\/\//i.test(v.poll) ? v.poll : origin ? `${origin}/ssf/streams/${encodeURIComponent(v.poll)}/poll` : undefined;
  if (v.poll !== undefined && !pollUrl) throw usage('--poll takes a URL, or a stream id together with --url / SCIMCAST_URL');
  const port = intOf('--listen', v.listen, 0, 65535);
  const max = v.once ? 1 : intOf('--max', v.max, 1);
  const maxEvents = intOf('--max-events', v['max-events'], 1);
  const dedupe = intOf('--dedupe', v.dedupe, 1);
  const expected = await expectedClaims(v, { origin, token: settings.token, pollUrl });
  if (!v.quiet) log(`expecting iss ${expected.issuer} and aud ${expected.audience}`);

  const output = v.out ? await ndjsonFile(v.out) : ndjsonStream(process.stdout);
  const receiver = new SetReceiver({
    jwksUrl,
    issuer: expected.issuer,
    audience: expected.audience,
    output,
    dedupeCapacity: dedupe,
    onWarning: (m) => log(`warning: ${m}`),
  });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const onOutcome = (o: ReceiveOutcome) => {
    if (o.outcome === 'rejected') log(`rejected SET ${o.jti ?? '(no jti)'}: ${o.err}: ${o.description}`);
    else if (!v.quiet) log(`${o.outcome} ${o.jti}`);
  };
  try {
    await receiver.start();
    if (pollUrl !== undefined) {
      await receiver.poll({
        url: pollUrl,
        token: settings.token,
        maxEvents,
        once: v.once,
        max: v.once ? undefined : max,
        signal: stop.signal,
        onOutcome,
        onRetry: (e, ms) => log(`${e.message}; retrying in ${(ms / 1000).toFixed(1)} s`),
      });
    } else {
      const listener = await receiver.listen({ port: port!, host: v.host, path: v.path, auth: v.auth, max, signal: stop.signal, onOutcome, onError: (e) => log(e.message) });
      log(`listening on ${listener.url}`);
      await listener.done;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await receiver.close();
  }
  const s = receiver.stats;
  log(`${s.accepted} accepted, ${s.duplicates} duplicate, ${s.rejected} rejected`);
  return 0;
}

/**
 * The iss and aud every SET must carry. --iss and --aud win; what they leave open is read from the
 * stream's configuration: the stream named by --stream, by a bare --poll id, or by a scimcast
 * poll URL (`<origin>/ssf/streams/<id>/poll`), on the server that URL or --url names.
 */
async function expectedClaims(v: Values, ctx: { origin: string | undefined; token: string | undefined; pollUrl: string | undefined }): Promise<SetExpectations> {
  if (v.iss === '' || v.aud === '') throw usage('--iss and --aud take a value');
  if (v.iss !== undefined && v.aud !== undefined) return { issuer: v.iss, audience: v.aud };
  const fromUrl = ctx.pollUrl === undefined ? undefined : streamOfPollUrl(ctx.pollUrl);
  const bareId = v.poll !== undefined && !/^https?:\/\//i.test(v.poll) ? v.poll : undefined;
  const named = [...new Set([v.stream, bareId, fromUrl?.streamId].filter((id): id is string => id !== undefined))];
  if (named.length > 1) throw usage(`--stream and --poll name different streams (${named.join(', ')})`);
  const streamId = named[0];
  if (streamId === undefined) {
    throw usage(
      `${v.listen !== undefined ? '--listen' : '--poll URL'} needs the issuer and audience its SETs must carry: ` +
        'pass --iss ISS and --aud AUD, or --stream ID with --url / SCIMCAST_URL and --token / SCIMCAST_TOKEN to read them from the stream',
    );
  }
  const server = fromUrl?.origin ?? ctx.origin;
  if (server === undefined) throw usage('--stream ID needs --url / SCIMCAST_URL (the server the stream is on)');
  const fetched = await fetchStreamExpectations({ url: server, token: ctx.token, streamId });
  return { issuer: v.iss ?? fetched.issuer, audience: v.aud ?? fetched.audience };
}
