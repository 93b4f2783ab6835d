/**
 * Typed client of scimcast's stream API over HTTP: OpenID SSF 1.0 stream management (§8.1)
 * and the operator routes (stats, dead letters, redrive, replay). The CLI's `scimcast streams …`
 * is a thin wrapper over it. Calls are owner-scoped by the server: a token sees its own streams.
 */
export { PUSH_METHOD, POLL_METHOD } from '../core/delivery-methods.js';

export type StreamStatus = 'enabled' | 'paused' | 'disabled';

/** SSF 1.0 §8.1.1 stream configuration, plus scimcast's extension members. */
export interface StreamConfig {
  stream_id: string;
  iss: string;
  aud: string | string[];
  events_supported: string[];
  events_requested: string[];
  events_delivered: string[];
  delivery: { method: string; endpoint_url?: string; authorization_header?: string };
  description?: string;
  profile?: 'rfc9967' | 'draft-03';
  [member: string]: unknown;
}

/** What a receiver may send when creating a stream (SSF 1.0 §8.1.1.1). */
export interface StreamInput {
  delivery?: { method: string; endpoint_url?: string; authorization_header?: string };
  events_requested?: string[];
  description?: string;
  profile?: 'rfc9967' | 'draft-03';
  resource_types?: ('User' | 'Group')[];
  default_subjects?: 'ALL' | 'NONE';
  kid_mode?: 'kid' | 'issuer';
  max_in_flight?: number;
}

export interface StatusDocument {
  stream_id: string;
  status: StreamStatus;
  reason?: string;
}

/**
 * Which SETs to requeue (docs/events-and-streams.md, "Operating a stream"): the body the server
 * parses (feeds/operator.ts).
 */
import type { RequeueSelector } from '../core/requeue-selector.js';
export type { RequeueSelector };

/** A non-2xx answer; `detail` is the SCIM error's detail when the body is one. */
export class StreamsApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: string,
  ) {
    super(`HTTP ${status}: ${detail}`);
    this.name = 'StreamsApiError';
  }
}

/** The server origin of a SCIM base: SSF routes live beside /scim/v2, not under it. */
export function serverOrigin(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/scim\/v2$/i, '');
}

export class StreamsClient {
  /** Where /ssf/* and /jwks.json live (the SCIM base without /scim/v2). */
  readonly origin: string;

  constructor(private readonly opts: { url: string; token: string; timeoutMs?: number }) {
    this.origin = serverOrigin(opts.url);
  }

  /** The RFC 8936 endpoint of a poll stream, on the origin this client talks to. */
  pollUrl(id: string): string {
    return `${this.origin}/ssf/streams/${encodeURIComponent(id)}/poll`;
  }

  jwksUrl(): string {
    return `${this.origin}/jwks.json`;
  }

  create(input: StreamInput): Promise<StreamConfig> {
    return this.call('POST', '/ssf/streams', input);
  }

  list(): Promise<StreamConfig[]> {
    return this.call('GET', '/ssf/streams');
  }

  get(id: string): Promise<StreamConfig> {
    return this.call('GET', `/ssf/streams/${encodeURIComponent(id)}`);
  }

  update(id: string, input: StreamInput): Promise<StreamConfig> {
    return this.call('PATCH', '/ssf/streams', { ...input, stream_id: id });
  }

  async delete(id: string): Promise<void> {
    await this.call('DELETE', `/ssf/streams?stream_id=${encodeURIComponent(id)}`);
  }

  status(id: string): Promise<StatusDocument> {
    return this.call('GET', `/ssf/status?stream_id=${encodeURIComponent(id)}`);
  }

  /** SSF 1.0 §8.1.2; a change is announced on the stream with a stream-updated SET. */
  setStatus(id: string, status: StreamStatus, reason?: string): Promise<StatusDocument> {
    return this.call('POST', '/ssf/status', { stream_id: id, status, ...(reason === undefined ? {} : { reason }) });
  }

  /** SSF 1.0 §8.1.4: the server sends a verification SET carrying `state` through the stream. */
  async verify(id: string, state?: string): Promise<void> {
    await this.call('POST', '/ssf/verify', { stream_id: id, ...(state === undefined ? {} : { state }) });
  }

  stats(id: string): Promise<Record<string, unknown>> {
    return this.call('GET', `/ssf/streams/${encodeURIComponent(id)}/stats`);
  }

  dead(id: string, limit?: number): Promise<{ stream_id: string; sets: Record<string, unknown>[] }> {
    return this.call('GET', `/ssf/streams/${encodeURIComponent(id)}/dead${limit === undefined ? '' : `?limit=${limit}`}`);
  }

  redrive(id: string, selector: RequeueSelector): Promise<{ stream_id: string; redriven: number }> {
    return this.call('POST', `/ssf/streams/${encodeURIComponent(id)}/redrive`, selector);
  }

  replay(id: string, selector: RequeueSelector): Promise<{ stream_id: string; replayed: number }> {
    return this.call('POST', `/ssf/streams/${encodeURIComponent(id)}/replay`, selector);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.opts.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.origin}${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    if (!res.ok) {
      let detail = text.slice(0, 500) || res.statusText;
      let scimType: string | undefined;
      try {
        const e = JSON.parse(text) as { detail?: unknown; scimType?: unknown };
        if (typeof e.detail === 'string') detail = e.detail;
        if (typeof e.scimType === 'string') scimType = e.scimType;
      } catch {
        /* not a SCIM error body */
      }
      throw new StreamsApiError(res.status, detail, scimType);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
