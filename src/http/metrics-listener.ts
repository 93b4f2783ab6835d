import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE } from '../core/metrics.js';

export interface MetricsListener {
  /** `http://host:port`, with the port actually bound (SCIMCAST_METRICS_PORT=0 picks one). */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * The token-less `/metrics` of SCIMCAST_METRICS_PORT, also for worker-only
 * processes that have no API. Plain node:http: one route, no auth, no SCIM error bodies, so the
 * main app's plugins would only get in the way. Loopback by default (SCIMCAST_METRICS_HOST).
 */
export async function startMetricsListener(opts: { host: string; port: number; scrape: () => Promise<string>; onError?: (e: unknown) => void }): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (path !== '/metrics') return answer(404, 'not found: try /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, 'method not allowed\n', { allow: 'GET, HEAD' });
    opts.scrape().then(
      (text) => answer(200, text, { 'content-type': PROMETHEUS_CONTENT_TYPE }),
      (e) => {
        opts.onError?.(e);
        answer(500, 'metrics scrape failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    address: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus keeps connections alive; without this, close() would wait for them to idle out.
        server.closeAllConnections();
      }),
  };
}
