import type { Client } from '../lib/client.js';

/** SSF stream management through scimcast's public API: creating and deleting streams (OpenID SSF 1.0). */
export const CREATE_FULL = 'urn:ietf:params:scim:event:prov:create:full';
export const PUSH = 'urn:ietf:rfc:8935';
export const POLL = 'urn:ietf:rfc:8936';

export async function createStream(client: Client, body: Record<string, unknown>): Promise<string> {
  const s = await client.json<{ stream_id: string }>('POST', '/ssf/streams', { body: { events_requested: [CREATE_FULL], ...body }, headers: { 'content-type': 'application/json' }, expect: 201 });
  return s.stream_id;
}

export async function setStreamStatus(client: Client, id: string, status: 'enabled' | 'paused'): Promise<void> {
  await client.call('POST', '/ssf/status', { body: { stream_id: id, status }, headers: { 'content-type': 'application/json' }, expect: 200 });
}

export async function deleteStream(client: Client, id: string): Promise<void> {
  await client.call('DELETE', `/ssf/streams?stream_id=${encodeURIComponent(id)}`, { expect: 204 });
}

/** Delete streams, ignoring ones already gone; their stored SETs go with them. */
export async function deleteStreams(client: Client, ids: readonly string[]): Promise<void> {
  for (const id of ids) await deleteStream(client, id).catch(() => {});
}
