import { randomBytes } from 'node:crypto';
import { badRequest, notFound, ScimError } from '../core/errors.js';
import { scimSubId } from '../events/claims.js';
import { ALL_SCIM_EVENT_URIS, EVENT, normalizeEventUri, SSF_EVENT } from '../events/uris.js';
import { isResourceUri, resourceTypeForEndpoint } from '../scim/resource-types.js';
import type { FeedRow, Storage } from '../storage/index.js';
import { streamChange } from './outbox.js';
import type { PublisherDeps } from './publish.js';
import { eventsDelivered, parseStreamInput, POLL, PUSH, type StreamInput } from './stream-config.js';
import { checkPushTarget } from './push-endpoint.js';
import { checkStreamRoom, type StreamCaps } from './stream-caps.js';
import type { Resolver } from '../delivery/safe-lookup.js';

/** SSF stream management (OpenID SSF 1.0 §8.1) over the feeds table; every call is owner-scoped. */
export interface StreamsCtx extends PublisherDeps {
  readonly storage: Storage;
  readonly baseUrl: string;
  /** What this server emits (SPC securityEvents.eventUris = SSF events_supported). */
  readonly supported: readonly string[];
  readonly pushAllow: readonly string[];
  /** Push may reach loopback (config events.pushLoopback: this server listens on loopback). */
  readonly pushLoopback: boolean;
  readonly streamCaps: StreamCaps;
  /** Name resolution for the registration-time target check; dns.lookup unless a test injects one. */
  readonly resolve?: Resolver | undefined;
}

export const STATUSES = ['enabled', 'paused', 'disabled'] as const;
export type StreamStatus = (typeof STATUSES)[number];

export const streamUrl = (baseUrl: string, id: string) => `${baseUrl}/ssf/streams/${id}`;
export const pollUrl = (baseUrl: string, id: string) => `${baseUrl}/ssf/streams/${id}/poll`;

/** The SSF 1.0 §8.1.1 configuration object, plus scimcast's extension members. */
export function streamConfig(ctx: Pick<StreamsCtx, 'baseUrl' | 'supported'>, f: FeedRow) {
  const delivery: Record<string, unknown> = { method: f.deliveryMethod };
  if (f.deliveryMethod === POLL) delivery.endpoint_url = pollUrl(ctx.baseUrl, f.id);
  else delivery.endpoint_url = f.endpointUrl;
  // The push authorization_header is a receiver secret: it is never echoed back.
  return {
    stream_id: f.id,
    iss: ctx.baseUrl,
    aud: f.aud,
    events_supported: [...ctx.supported],
    events_requested: f.eventsRequested,
    events_delivered: f.eventsDelivered,
    delivery,
    description: f.description ?? undefined,
    profile: f.profile,
    resource_types: f.resourceTypes,
    default_subjects: f.defaultSubjects,
    kid_mode: f.kidMode,
    max_in_flight: f.maxInFlight,
  };
}

export async function loadStream(ctx: Pick<StreamsCtx, 'storage'>, owner: string | undefined, id: string | undefined): Promise<FeedRow> {
  if (!id) throw badRequest('invalidValue', 'stream_id is required');
  const f = await ctx.storage.feeds.get(id);
  // Another owner's stream is indistinguishable from a missing one: nobody else learns it exists.
  // `owner` undefined is the operator CLI, which works on any stream.
  // A per-request callback's feed is not a stream of the owner's (async/callback.ts): the stream API
  // neither shows nor changes it; the request's status resource shows where it stands.
  if (!f || (owner !== undefined && (f.owner !== owner || f.callbackTxn !== null))) throw notFound(`stream ${id} not found`);
  return f;
}

async function deliveryColumns(ctx: StreamsCtx, input: StreamInput, fallback?: FeedRow) {
  const method = input.delivery?.method ?? fallback?.deliveryMethod ?? POLL; // SSF §8.1.1.1: no delivery, poll
  if (method === PUSH) {
    const url = input.delivery?.endpoint_url ?? fallback?.endpointUrl ?? undefined;
    if (!url) throw badRequest('invalidValue', 'delivery.endpoint_url is required for push (urn:ietf:rfc:8935)');
    await checkPushTarget(url, { allow: ctx.pushAllow, loopback: ctx.pushLoopback }, ctx.resolve);
    return { deliveryMethod: PUSH, endpointUrl: url, authorizationHeader: input.delivery?.authorization_header ?? (input.delivery ? null : fallback?.authorizationHeader ?? null) };
  }
  return { deliveryMethod: POLL, endpointUrl: null, authorizationHeader: null };
}

function requestedColumns(ctx: StreamsCtx, requested: readonly string[]) {
  return { eventsRequested: [...requested], eventsDelivered: eventsDelivered(requested, ctx.supported, normalizeEventUri) };
}

export async function createStream(ctx: StreamsCtx, owner: string, body: unknown) {
  const input = parseStreamInput(body);
  const id = `f-${randomBytes(6).toString('hex')}`;
  const now = ctx.clock.now();
  const row: FeedRow = {
    id,
    owner,
    aud: streamUrl(ctx.baseUrl, id),
    description: input.description ?? null,
    ...(await deliveryColumns(ctx, input)),
    ...requestedColumns(ctx, input.events_requested ?? []),
    profile: input.profile ?? 'rfc9967',
    status: 'enabled',
    statusReason: null,
    resourceTypes: input.resource_types ?? [],
    defaultSubjects: input.default_subjects ?? 'ALL',
    kidMode: input.kid_mode ?? 'kid',
    maxInFlight: input.max_in_flight ?? 1,
    createdAt: now,
    updatedAt: now,
    callbackTxn: null,
  };
  // Counted and inserted under one lock: concurrent creates cannot pass the caps together.
  await ctx.storage.withTx(async (s) => {
    checkStreamRoom(await s.feeds.lockAndCount(owner), ctx.streamCaps);
    await s.feeds.insert(row);
  });
  return streamConfig(ctx, row);
}

export async function getStreams(ctx: StreamsCtx, owner: string, id: string | undefined) {
  if (id) return streamConfig(ctx, await loadStream(ctx, owner, id));
  return (await ctx.storage.feeds.listByOwner(owner)).map((f) => streamConfig(ctx, f));
}

/** PATCH merges receiver-supplied members; PUT replaces them, absent ones reset (SSF 1.0 §8.1.1.3, §8.1.1.4). */
export async function updateStream(ctx: StreamsCtx, owner: string, body: unknown, mode: 'patch' | 'put') {
  const input = parseStreamInput(body);
  const f = await loadStream(ctx, owner, input.stream_id);
  const patch: Partial<FeedRow> = { updatedAt: ctx.clock.now() };
  if (mode === 'put' || input.delivery) Object.assign(patch, await deliveryColumns(ctx, input, mode === 'patch' ? f : undefined));
  if (mode === 'put' || input.events_requested) Object.assign(patch, requestedColumns(ctx, input.events_requested ?? []));
  if (mode === 'put' || input.description !== undefined) patch.description = input.description ?? null;
  if (mode === 'put' || input.profile) patch.profile = input.profile ?? 'rfc9967';
  if (mode === 'put' || input.resource_types) patch.resourceTypes = input.resource_types ?? [];
  if (mode === 'put' || input.default_subjects) patch.defaultSubjects = input.default_subjects ?? 'ALL';
  if (mode === 'put' || input.kid_mode) patch.kidMode = input.kid_mode ?? 'kid';
  if (mode === 'put' || input.max_in_flight) patch.maxInFlight = input.max_in_flight ?? 1;
  const row = await ctx.storage.feeds.update(f.id, patch);
  return streamConfig(ctx, row!);
}

export async function deleteStream(ctx: StreamsCtx, owner: string, id: string | undefined): Promise<void> {
  const f = await loadStream(ctx, owner, id);
  await ctx.storage.feeds.delete(f.id);
}

export async function getStatus(ctx: StreamsCtx, owner: string, id: string | undefined) {
  const f = await loadStream(ctx, owner, id);
  return { stream_id: f.id, status: f.status, ...(f.statusReason ? { reason: f.statusReason } : {}) };
}

/** SSF 1.0 §8.1.2, §8.1.5: a status change is recorded and announced with a stream-updated SET on the stream. */
export async function setStatus(ctx: StreamsCtx, owner: string | undefined, body: unknown) {
  const b = (body ?? {}) as { stream_id?: unknown; status?: unknown; reason?: unknown };
  if (typeof b.stream_id !== 'string') throw badRequest('invalidValue', 'stream_id is required');
  if (typeof b.status !== 'string' || !STATUSES.includes(b.status as StreamStatus)) throw badRequest('invalidValue', `status must be one of ${STATUSES.join(', ')}`);
  if (b.reason !== undefined && typeof b.reason !== 'string') throw badRequest('invalidValue', 'reason must be a string');
  const f = owner === undefined ? await ctx.storage.feeds.get(b.stream_id) : await loadStream(ctx, owner, b.stream_id);
  if (!f) throw notFound(`stream ${b.stream_id} not found`);
  const reason = (b.reason as string | undefined) ?? null;
  return ctx.storage.withTx(async (s) => {
    const row = (await s.feeds.update(f.id, { status: b.status as string, statusReason: reason, updatedAt: ctx.clock.now() }))!;
    if (f.status !== row.status) await announce(ctx, s, row, SSF_EVENT.streamUpdated, { status: row.status, ...(reason ? { reason } : {}) });
    // Resuming a push stream sends what it kept while paused (SSF 1.0 §8.1.2): the NOTIFY at commit
    // wakes the stream's push loop.
    if (row.status === 'enabled' && row.deliveryMethod === PUSH) await s.events.notify(row.id);
    return { stream_id: row.id, status: row.status, ...(reason ? { reason } : {}) };
  });
}

async function announce(ctx: StreamsCtx, s: Storage, feed: FeedRow, uri: string, payload: Record<string, unknown>) {
  await s.changes.insert([streamChange(feed.id, uri, { format: 'opaque', id: feed.id }, payload, ctx.ids.txn(), ctx.clock.now(), ctx.ids.uuid())]);
}

/** SSF 1.0 §8.1.4: verification SET with the receiver's `state`, delivered through the stream. */
export async function verifyStream(ctx: StreamsCtx, owner: string, body: unknown): Promise<void> {
  const b = (body ?? {}) as { stream_id?: unknown; state?: unknown };
  if (b.state !== undefined && typeof b.state !== 'string') throw badRequest('invalidValue', 'state must be a string');
  const f = await loadStream(ctx, owner, typeof b.stream_id === 'string' ? b.stream_id : undefined);
  if (f.status === 'disabled') throw new ScimError(409, undefined, `stream ${f.id} is disabled`);
  await ctx.storage.withTx((s) => announce(ctx, s, f, SSF_EVENT.verification, b.state === undefined ? {} : { state: b.state }));
}

/** An SSF subject naming a SCIM resource: `{format:'scim', uri:'/Users/<id>'}` (RFC 9967 §2.1). */
function subjectUriOf(subject: unknown): string {
  const s = subject as { format?: unknown; uri?: unknown } | undefined;
  if (!s || s.format !== 'scim' || typeof s.uri !== 'string' || !isResourceUri(s.uri)) {
    throw badRequest('invalidValue', 'subject must be {"format":"scim","uri":"/Users/<id>"} or "/Groups/<id>"');
  }
  return s.uri;
}

/** SSF 1.0 §8.1.3 add/remove subject; emits RFC 9967 §2.3 feed:add / feed:remove when membership changes. */
export async function changeSubject(ctx: StreamsCtx, owner: string, body: unknown, op: 'add' | 'remove'): Promise<void> {
  const b = (body ?? {}) as { stream_id?: unknown; subject?: unknown };
  const f = await loadStream(ctx, owner, typeof b.stream_id === 'string' ? b.stream_id : undefined);
  const uri = subjectUriOf(b.subject);
  await ctx.storage.withTx(async (s) => {
    const changed = op === 'add' ? await s.feeds.addSubject(f.id, uri) : await s.feeds.removeSubject(f.id, uri);
    const eventUri = op === 'add' ? EVENT.feedAdd : EVENT.feedRemove;
    if (!changed || !f.eventsDelivered.includes(eventUri) || f.status === 'disabled') return;
    const [, endpoint, id] = uri.split('/');
    const type = resourceTypeForEndpoint(endpoint ?? '');
    // RFC 9967 §2.1 (Figures 2, 3): sub_id carries the externalId when the subject has one.
    const row = id && type ? await s.resources.get(type, id) : undefined;
    await s.changes.insert([streamChange(f.id, eventUri, scimSubId(uri, id, row?.externalId ?? undefined), {}, ctx.ids.txn(), ctx.clock.now(), ctx.ids.uuid())]);
  });
}

export { ALL_SCIM_EVENT_URIS };
