import { Pool } from 'undici';

/**
 * A keep-alive HTTP client for one origin (undici Pool): the load generator's connections stay
 * open across requests, as an IdP's would, so figures measure the server and not TCP set-up.
 */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface Client {
  readonly origin: string;
  call(method: string, path: string, opts?: { body?: unknown; headers?: Record<string, string>; expect?: number | number[] }): Promise<Reply>;
  json<T = Record<string, unknown>>(method: string, path: string, opts?: { body?: unknown; headers?: Record<string, string>; expect?: number | number[] }): Promise<T>;
  close(): Promise<void>;
}

export function makeClient(origin: string, opts: { token?: string; connections?: number; timeoutMs?: number } = {}): Client {
  const pool = new Pool(origin, {
    connections: opts.connections ?? 64,
    keepAliveTimeout: 60_000,
    headersTimeout: opts.timeoutMs ?? 300_000,
    bodyTimeout: opts.timeoutMs ?? 300_000,
  });
  const base: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  const client: Client = {
    origin,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...base, ...(o.headers ?? {}) };
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['content-type'] ??= 'application/scim+json';
      }
      const res = await pool.request({ method: method as 'GET', path, headers, body });
      const text = await res.body.text();
      const expect = o.expect === undefined ? undefined : Array.isArray(o.expect) ? o.expect : [o.expect];
      if (expect ? !expect.includes(res.statusCode) : res.statusCode >= 400) {
        throw new Error(`${method} ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
      }
      return { status: res.statusCode, headers: res.headers, text };
    },
    async json(method, path, o = {}) {
      const r = await client.call(method, path, o);
      return (r.text ? JSON.parse(r.text) : undefined) as never;
    },
    close: () => pool.close(),
  };
  return client;
}
