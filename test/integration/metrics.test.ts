import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startScimcast } from '../../src/main.js';
import { BASE_URL, startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, until, type Receiver } from '../helpers/receiver.js';
import { metricSample, scrapeMetrics } from '../helpers/metrics.js';
import { pushStreamTo } from '../helpers/push-stream.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:';
const JSON_CT = { 'content-type': 'application/json' };

let t: TestApp;
const receivers: Receiver[] = [];
beforeAll(async () => {
  t = await startTestApp({ SCIMCAST_PUSH_BACKOFF_BASE_MS: '20', SCIMCAST_PUSH_BACKOFF_CAP_MS: '100', SCIMCAST_PUSH_TIMEOUT_MS: '2000' }, { worker: true });
});
afterAll(async () => {
  await t?.close();
  for (const r of receivers) await r.close();
});

let token: string | undefined;
const metricsToken = async () => (token ??= await t.tokenWith(['metrics:read']));

/** The value of one sample line, by metric name and exact label text; undefined when absent. */

const pushStream = () => pushStreamTo(t, receivers);
const mkUsers = async (prefix: string, n: number) => {
  for (let i = 0; i < n; i++) expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `${prefix}-${i}` })).statusCode).toBe(201);
};
const counts = (id: string) => t.deps.storage.events.countsByState(id);

describe('GET /metrics on the main port', () => {
  it('needs a token (401) holding metrics:read (403)', async () => {
    const none = await t.req('GET', '/metrics', undefined, { auth: null });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer realm="scimcast"/);
    const wrong = await t.req('GET', '/metrics', undefined, { auth: await t.tokenWith(['scim:read']) });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.headers['www-authenticate']).toMatch(/insufficient_scope.*metrics:read/);
    const ok = await t.req('GET', '/metrics', undefined, { auth: await metricsToken() });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(ok.body).toContain('# TYPE scimcast_sets_created_total counter');
    expect(ok.body).toContain('# TYPE scimcast_push_delivery_seconds histogram');
  });

  it('a push stream answered 202: SETs created, pushes delivered, latency observed, backlog 0', async () => {
    const { rec, id } = await pushStream();
    await mkUsers('metrics-ok', 3);
    await until(async () => (await counts(id)).delivered === 3);
    expect(rec.received).toHaveLength(3);
    const text = await scrapeMetrics(t, await metricsToken());
    const s = `stream="${id}"`;
    expect(metricSample(text, 'scimcast_sets_created_total', s)).toBe(3);
    expect(metricSample(text, 'scimcast_push_attempts_total', `${s},outcome="delivered"`)).toBe(3);
    expect(metricSample(text, 'scimcast_push_delivery_seconds_count', s)).toBe(3);
    expect(metricSample(text, 'scimcast_push_delivery_seconds_bucket', `${s},le="+Inf"`)).toBe(3);
    expect(metricSample(text, 'scimcast_push_delivery_seconds_sum', s)).toBeGreaterThan(0);
    expect(metricSample(text, 'scimcast_stream_backlog', s)).toBe(0);
    expect(metricSample(text, 'scimcast_stream_oldest_pending_seconds', s)).toBe(0);
    expect(metricSample(text, 'scimcast_stream_sets', `${s},state="delivered"`)).toBe(3);
    // Requests are counted by route pattern, not raw URL.
    expect(metricSample(text, 'scimcast_http_requests_total', 'method="POST",route="/scim/v2/Users",status="201"')).toBeGreaterThanOrEqual(3);
    expect(text).not.toMatch(/route="\/ssf\/streams\/[^:"]/);
    await t.req('GET', `/no/such/${id}`);
    expect(metricSample(await scrapeMetrics(t, await metricsToken()), 'scimcast_http_requests_total', 'method="GET",route="unmatched",status="404"')).toBeGreaterThanOrEqual(1);
  });

  it('a receiver answering 400 {err, description} dead-letters the SET and counts it', async () => {
    const { rec, id } = await pushStream();
    rec.respond = () => ({ status: 400, headers: JSON_CT, body: JSON.stringify({ err: 'invalid_request', description: 'x' }) });
    await mkUsers('metrics-dead', 1);
    await until(async () => (await counts(id)).dead === 1);
    const text = await scrapeMetrics(t, await metricsToken());
    const s = `stream="${id}"`;
    expect(metricSample(text, 'scimcast_push_attempts_total', `${s},outcome="rejected"`)).toBe(1);
    expect(metricSample(text, 'scimcast_sets_dead_total', `${s},reason="invalid_request"`)).toBe(1);
    expect(metricSample(text, 'scimcast_stream_sets', `${s},state="dead"`)).toBe(1);
    expect(metricSample(text, 'scimcast_stream_backlog', s)).toBe(0);
  });

  it('a poll stream: backlog and oldest pending age from the database, then acks and setErrs are counted', async () => {
    const created = await t.req('POST', '/ssf/streams', { events_requested: [`${EV}prov:create:notice`] }, { headers: JSON_CT });
    const id = (created.json() as { stream_id: string }).stream_id;
    await mkUsers('metrics-poll', 3);
    await t.settle();
    let text = await scrapeMetrics(t, await metricsToken());
    const s = `stream="${id}"`;
    expect(metricSample(text, 'scimcast_stream_backlog', s)).toBe(3);
    expect(metricSample(text, 'scimcast_stream_oldest_pending_seconds', s)).toBeGreaterThanOrEqual(0);
    const polled = await t.req('POST', `/ssf/streams/${id}/poll`, { returnImmediately: true }, { headers: JSON_CT });
    const [a, b, c] = Object.keys((polled.json() as { sets: Record<string, string> }).sets);
    const body = { ack: [a, b, a], setErrs: { [c!]: { err: 'invalid_audience', description: 'not ours' } }, maxEvents: 0, returnImmediately: true };
    expect((await t.req('POST', `/ssf/streams/${id}/poll`, body, { headers: JSON_CT })).statusCode).toBe(200);
    // A repeated ack of the same SETs is not counted twice.
    await t.req('POST', `/ssf/streams/${id}/poll`, { ack: [a], maxEvents: 0, returnImmediately: true }, { headers: JSON_CT });
    text = await scrapeMetrics(t, await metricsToken());
    expect(metricSample(text, 'scimcast_sets_acked_total', s)).toBe(2);
    expect(metricSample(text, 'scimcast_sets_dead_total', `${s},reason="invalid_audience"`)).toBe(1);
    expect(metricSample(text, 'scimcast_stream_backlog', s)).toBe(0);
    expect(metricSample(text, 'scimcast_stream_sets', `${s},state="acked"`)).toBe(2);
    expect(metricSample(text, 'scimcast_http_requests_total', 'method="POST",route="/ssf/streams/:id/poll",status="200"')).toBe(3);
  });
});

describe('SCIMCAST_METRICS_PORT', () => {
  it('a worker-only process serves /metrics without a token on its own loopback listener, and closes it on stop', async () => {
    // Same database as the app above: the stream gauges are read there, so both agree.
    await t.settle();
    const config = loadConfig({ DATABASE_URL: t.dbUrl, BASE_URL, LOG_LEVEL: 'silent', SCIMCAST_METRICS_PORT: '0' });
    expect(config.metrics.host).toBe('127.0.0.1');
    const running = await startScimcast(config, { api: false, worker: true, logger: false });
    try {
      expect(running.app).toBeUndefined();
      expect(running.metricsAddress).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${running.metricsAddress}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      const gauges = (x: string) => x.split('\n').filter((l) => l.startsWith('scimcast_stream_'));
      expect(gauges(text).length).toBeGreaterThan(0);
      expect(gauges(text)).toEqual(gauges(await scrapeMetrics(t, await metricsToken())));
      // This process's own counters: it stored no SETs and pushed nothing yet.
      expect(text).toContain('# TYPE scimcast_push_attempts_total counter');
      expect((await fetch(`${running.metricsAddress}/other`)).status).toBe(404);
      expect((await fetch(`${running.metricsAddress}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await running.stop();
    }
    await expect(fetch(`${running.metricsAddress}/metrics`)).rejects.toThrow();
  });
});
