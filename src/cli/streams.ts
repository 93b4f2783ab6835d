import { parseArgs } from 'node:util';
import { StreamsApiError, StreamsClient, POLL_METHOD, PUSH_METHOD, type RequeueSelector as HttpSelector, type StreamInput, type StreamStatus } from '../client/streams-client.js';
import { clientSettings } from '../config/client.js';
import { loadConfig } from '../config/load.js';
import { AppError, ScimError } from '../core/errors.js';
import type { Deps } from '../deps.js';
import { deadLetters, redrive, replay, streamStats, type RequeueSelector } from '../feeds/operator.js';
import { loadStream, setStatus, STATUSES } from '../feeds/streams.js';
import { withDeps } from './with-deps.js';

/**
 * `scimcast streams …`: stream management and the operator commands (stats, dead letters, redrive, replay).
 * With --url / SCIMCAST_URL they are thin wrappers over the HTTP API (SSF routes, owner-scoped,
 * the token's own streams); without, the operator commands run against the database directly
 * (works while the server runs, on any owner's stream). Output is JSON, one document per command.
 */
export const STREAMS_USAGE = `  scimcast streams create [--poll | --push URL [--auth-header H]] [--events E,…] [--description D]
                         [--profile rfc9967|draft-03] [--resource-types User,Group] [--default-subjects ALL|NONE]
                         [--kid-mode kid|issuer] [--max-in-flight N]          (HTTP)
  scimcast streams list | get ID | delete ID                                    (get, delete: HTTP)
  scimcast streams status ID [--set enabled|paused|disabled [--reason R]]
  scimcast streams pause ID [--reason R] | resume ID
  scimcast streams verify ID [--state S]                                        (HTTP)
  scimcast streams stats ID                           counts by state, oldest pending age, last error
  scimcast streams dead ID [--limit N]                dead-lettered SETs with their errors
  scimcast streams redrive ID (--jti J[,J…] | --from-jti J [--to-jti J] | --since T | --all)
  scimcast streams replay ID (--from-jti J | --since T | --all)   re-send delivered/acknowledged SETs
    over HTTP with --url <SCIM base> --token T (or SCIMCAST_URL, SCIMCAST_TOKEN); else on the database`;

const SCIM_EVENT_PREFIX = 'urn:ietf:params:scim:event:';

export interface StreamsArgs {
  sub: string | undefined;
  id: string | undefined;
  jti?: string | undefined;
  fromJti?: string | undefined;
  toJti?: string | undefined;
  since?: string | undefined;
  all?: boolean | undefined;
  limit?: string | undefined;
  set?: string | undefined;
  reason?: string | undefined;
}

export function selectorOf(a: StreamsArgs): RequeueSelector {
  const sel: RequeueSelector = {};
  if (a.jti) sel.jti = a.jti.split(',').map((j) => j.trim()).filter(Boolean);
  if (a.fromJti) sel.from_jti = a.fromJti;
  if (a.toJti) sel.to_jti = a.toJti;
  if (a.since) sel.since = a.since;
  if (a.all) sel.all = true;
  return sel;
}

const usage = (msg: string) => new AppError('ERR_CONFIG_INVALID', `${msg}\n${STREAMS_USAGE}`);

/** The status a status/pause/resume command asks for, or undefined to read it. */
function wantedStatus(a: StreamsArgs): StreamStatus | undefined {
  if (a.sub === 'pause') return 'paused';
  if (a.sub === 'resume') return 'enabled';
  if (a.set === undefined) return undefined;
  if (!STATUSES.includes(a.set as StreamStatus)) throw usage(`--set must be one of ${STATUSES.join(', ')}`);
  return a.set as StreamStatus;
}

/** Database mode: any owner's stream (the operator's view). */
export async function streamsCommand(d: Deps, a: StreamsArgs): Promise<unknown> {
  const ctx = d.streams;
  if (a.sub === 'list') {
    const rows = await d.storage.feeds.all();
    return rows.map((f) => ({ stream_id: f.id, owner: f.owner, status: f.status, delivery_method: f.deliveryMethod, endpoint_url: f.endpointUrl ?? undefined, description: f.description ?? undefined }));
  }
  if (['create', 'get', 'delete', 'verify'].includes(a.sub ?? '')) throw usage(`streams ${a.sub} uses the HTTP API: give --url and --token (or SCIMCAST_URL, SCIMCAST_TOKEN)`);
  if (!a.id) throw usage('a stream id is required');
  switch (a.sub) {
    case 'stats':
      return streamStats(ctx, undefined, a.id);
    case 'dead':
      return deadLetters(ctx, undefined, a.id, Number(a.limit ?? 100) || 100);
    case 'redrive':
      return redrive(ctx, undefined, a.id, selectorOf(a));
    case 'replay':
      return replay(ctx, undefined, a.id, selectorOf(a));
    case 'status':
    case 'pause':
    case 'resume': {
      const status = wantedStatus(a);
      if (status) return setStatus(ctx, undefined, { stream_id: a.id, status, ...(a.reason ? { reason: a.reason } : {}) });
      const f = await loadStream(ctx, undefined, a.id);
      return { stream_id: f.id, status: f.status, ...(f.statusReason ? { reason: f.statusReason } : {}) };
    }
    default:
      throw usage(`unknown streams command "${a.sub ?? ''}"`);
  }
}

/** `--events` entries; a short form such as `prov:create:notice` or `*` gets the RFC 9967 prefix. */
function eventsOf(list: string | undefined): string[] {
  const items = (list ?? '*').split(',').map((e) => e.trim()).filter(Boolean);
  return items.map((e) => (/^(urn|https?):/i.test(e) ? e : `${SCIM_EVENT_PREFIX}${e}`));
}

type Values = Record<string, string | boolean | undefined>;

function createInput(v: Values): StreamInput {
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  if (str('push') && v.poll) throw usage('give --push URL or --poll, not both');
  const input: StreamInput = {
    delivery: str('push') ? { method: PUSH_METHOD, endpoint_url: str('push')!, ...(str('auth-header') ? { authorization_header: str('auth-header')! } : {}) } : { method: POLL_METHOD },
    events_requested: eventsOf(str('events')),
  };
  if (str('description') !== undefined) input.description = str('description')!;
  if (str('profile')) input.profile = str('profile') as StreamInput['profile'];
  if (str('resource-types')) input.resource_types = str('resource-types')!.split(',').map((s) => s.trim()) as StreamInput['resource_types'];
  if (str('default-subjects')) input.default_subjects = str('default-subjects') as StreamInput['default_subjects'];
  if (str('kid-mode')) input.kid_mode = str('kid-mode') as StreamInput['kid_mode'];
  if (str('max-in-flight')) input.max_in_flight = Number(str('max-in-flight'));
  return input;
}

/** HTTP mode: each command is one or two calls of the stream API, answered as the server answers. */
async function overHttp(client: StreamsClient, a: StreamsArgs, v: Values): Promise<unknown> {
  if (a.sub === 'create') return client.create(createInput(v));
  if (a.sub === 'list') return client.list();
  if (!a.id) throw usage('a stream id is required');
  switch (a.sub) {
    case 'get':
      return client.get(a.id);
    case 'delete':
      await client.delete(a.id);
      return { stream_id: a.id, deleted: true };
    case 'status':
    case 'pause':
    case 'resume': {
      const status = wantedStatus(a);
      return status ? client.setStatus(a.id, status, a.reason) : client.status(a.id);
    }
    case 'verify': {
      const state = typeof v.state === 'string' ? v.state : undefined;
      await client.verify(a.id, state);
      return { stream_id: a.id, verification: 'requested', ...(state === undefined ? {} : { state }) };
    }
    case 'stats':
      return client.stats(a.id);
    case 'dead':
      return client.dead(a.id, a.limit === undefined ? undefined : Number(a.limit) || 100);
    case 'redrive':
      return client.redrive(a.id, selectorOf(a) as HttpSelector);
    case 'replay':
      return client.replay(a.id, selectorOf(a) as HttpSelector);
    default:
      throw usage(`unknown streams command "${a.sub ?? ''}"`);
  }
}

/** Where a command writes and which environment it reads (the process's, unless a caller embeds it). */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env?: Record<string, string | undefined> | undefined;
}

const processIo: CommandIo = { stdout: (t) => void process.stdout.write(t), stderr: (t) => void process.stderr.write(t) };

export async function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean', default: true },
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        jti: { type: 'string' },
        'from-jti': { type: 'string' },
        'to-jti': { type: 'string' },
        since: { type: 'string' },
        all: { type: 'boolean', default: false },
        limit: { type: 'string' },
        set: { type: 'string' },
        reason: { type: 'string' },
        state: { type: 'string' },
        push: { type: 'string' },
        poll: { type: 'boolean', default: false },
        'auth-header': { type: 'string' },
        events: { type: 'string' },
        description: { type: 'string' },
        profile: { type: 'string' },
        'resource-types': { type: 'string' },
        'default-subjects': { type: 'string' },
        'kid-mode': { type: 'string' },
        'max-in-flight': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    io.stderr(`scimcast streams: ${(e as Error).message}\n${STREAMS_USAGE}\n`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help || positionals.length === 0) {
    io.stdout(`${STREAMS_USAGE}\n`);
    return v.help ? 0 : 2;
  }
  const a: StreamsArgs = {
    sub: positionals[0],
    id: positionals[1],
    jti: v.jti,
    fromJti: v['from-jti'],
    toJti: v['to-jti'],
    since: v.since,
    all: v.all,
    limit: v.limit,
    set: v.set,
    reason: v.reason,
  };
  try {
    const settings = clientSettings({ url: v.url, token: v.token }, io.env);
    let out: unknown;
    if (settings.url) {
      if (!settings.token) throw usage('--token / SCIMCAST_TOKEN is required with --url');
      out = await overHttp(new StreamsClient({ url: settings.url, token: settings.token }), a, v);
    } else {
      const overrides: Record<string, string> = {};
      if (v.host) overrides.HOST = v.host;
      if (v.port) overrides.PORT = v.port;
      if (v['data-dir']) overrides.SCIMCAST_DATA_DIR = v['data-dir'];
      out = await withDeps(loadConfig(io.env, overrides), (d) => streamsCommand(d, a));
    }
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof StreamsApiError || e instanceof ScimError) {
      const msg = e instanceof ScimError ? `${e.status}: ${e.detail}` : e.message;
      io.stderr(`scimcast streams ${a.sub}: ${msg}\n`);
      return 1;
    }
    if (e instanceof AppError && e.code === 'ERR_CONFIG_INVALID') {
      io.stderr(`scimcast streams: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
