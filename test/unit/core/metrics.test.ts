import { describe, expect, it } from 'vitest';
import { deadReason, makeAppMetrics, streamGauges } from '../../../src/core/app-metrics.js';
import { makeRegistry, mergeExpositions } from '../../../src/core/metrics.js';

describe('metrics registry: Prometheus text format 0.0.4', () => {
  it('renders counters with HELP, TYPE and one line per label set; an unlabelled counter starts at 0', () => {
    const r = makeRegistry();
    const c = r.counter('jobs_total', 'Jobs run.', ['queue', 'outcome']);
    r.counter('starts_total', 'Starts.');
    c.inc({ queue: 'a', outcome: 'ok' });
    c.inc({ outcome: 'ok', queue: 'a' }, 2);
    c.inc({ queue: 'b', outcome: 'failed' });
    expect(r.render()).toBe(
      [
        '# HELP jobs_total Jobs run.',
        '# TYPE jobs_total counter',
        'jobs_total{queue="a",outcome="ok"} 3',
        'jobs_total{queue="b",outcome="failed"} 1',
        '# HELP starts_total Starts.',
        '# TYPE starts_total counter',
        'starts_total 0',
        '',
      ].join('\n'),
    );
  });

  it('renders a family of 200,000 series (one per stream, say) without overflowing the call stack', () => {
    const r = makeRegistry();
    const c = r.counter('per_stream_total', 'Per stream.', ['stream']);
    for (let i = 0; i < 200_000; i++) c.inc({ stream: `s${i}` });
    const lines = r.render().split('\n');
    expect(lines).toHaveLength(2 + 200_000 + 1);
    expect(lines[2 + 199_999]).toBe('per_stream_total{stream="s199999"} 1');
  });

  it('escapes backslash, double quote and newline in label values, and backslash and newline in HELP', () => {
    const r = makeRegistry();
    r.counter('x_total', 'a \\ help\nline', ['v']).inc({ v: 'q"uo\\te\nnl' });
    expect(r.render()).toBe('# HELP x_total a \\\\ help\\nline\n# TYPE x_total counter\nx_total{v="q\\"uo\\\\te\\nnl"} 1\n');
  });

  it('renders histograms with cumulative buckets, +Inf, _sum and _count', () => {
    const r = makeRegistry();
    const h = r.histogram('lat_seconds', 'Latency.', ['s'], [1, 0.1, 0.5]);
    for (const v of [0.05, 0.1, 0.3, 2]) h.observe({ s: 'x' }, v);
    expect(r.render().split('\n')).toEqual([
      '# HELP lat_seconds Latency.',
      '# TYPE lat_seconds histogram',
      'lat_seconds_bucket{s="x",le="0.1"} 2',
      'lat_seconds_bucket{s="x",le="0.5"} 3',
      'lat_seconds_bucket{s="x",le="1"} 3',
      'lat_seconds_bucket{s="x",le="+Inf"} 4',
      'lat_seconds_sum{s="x"} 2.45',
      'lat_seconds_count{s="x"} 4',
      '',
    ]);
  });

  it('gauges take the last value; special values are written +Inf, -Inf, NaN', () => {
    const r = makeRegistry();
    const g = r.gauge('g', 'G.', ['k']);
    g.set({ k: 'a' }, 5);
    g.set({ k: 'a' }, 2);
    g.set({ k: 'b' }, Infinity);
    g.set({ k: 'c' }, -Infinity);
    g.set({ k: 'd' }, NaN);
    expect(r.render()).toContain('g{k="a"} 2\ng{k="b"} +Inf\ng{k="c"} -Inf\ng{k="d"} NaN\n');
  });

  it('refuses wrong label sets, decreasing counters, bad or duplicate names', () => {
    const r = makeRegistry();
    const c = r.counter('c_total', 'C.', ['a']);
    expect(() => c.inc({})).toThrow(/labels must be exactly \{a\}/);
    expect(() => c.inc({ a: 'x', b: 'y' })).toThrow(/labels/);
    expect(() => c.inc({ a: 'x' }, -1)).toThrow(/only go up/);
    expect(() => r.counter('c_total', 'again')).toThrow(/already registered/);
    expect(() => r.counter('bad-name', 'x')).toThrow(/invalid metric name/);
    expect(() => r.counter('ok_total', 'x', ['__reserved'])).toThrow(/invalid label name/);
    expect(() => r.histogram('h', 'x', ['le'], [1])).toThrow(/reserved/);
  });

  it('an empty registry renders nothing', () => {
    expect(makeRegistry().render()).toBe('');
  });
});

describe('scimcast instruments', () => {
  it('a push answer counts the attempt, a 202 its commit-to-202 latency, a rejection a dead SET', () => {
    const m = makeAppMetrics();
    const at = new Date('2026-01-01T00:00:00Z');
    m.pushAnswered('s1', { kind: 'delivered' }, at, new Date(at.getTime() + 40));
    m.pushAnswered('s1', { kind: 'rejected', err: 'invalid_request' }, at, at);
    m.pushAnswered('s1', { kind: 'retry' }, at, at);
    m.deadLettered('s1', 'something_custom');
    const text = m.registry.render();
    expect(text).toContain('scimcast_push_attempts_total{stream="s1",outcome="delivered"} 1');
    expect(text).toContain('scimcast_push_attempts_total{stream="s1",outcome="rejected"} 1');
    expect(text).toContain('scimcast_push_attempts_total{stream="s1",outcome="retry"} 1');
    expect(text).toContain('scimcast_push_delivery_seconds_bucket{stream="s1",le="0.025"} 0');
    expect(text).toContain('scimcast_push_delivery_seconds_bucket{stream="s1",le="0.05"} 1');
    expect(text).toContain('scimcast_push_delivery_seconds_count{stream="s1"} 1');
    expect(text).toContain('scimcast_sets_dead_total{stream="s1",reason="invalid_request"} 1');
    expect(text).toContain('scimcast_sets_dead_total{stream="s1",reason="other"} 1');
  });

  it('dead reasons outside the SET error registry fold into "other"', () => {
    expect(deadReason('access_denied')).toBe('access_denied');
    expect(deadReason('whatever')).toBe('other');
  });

  it('stream gauges: backlog, oldest pending age and SETs by state', () => {
    const now = new Date('2026-01-01T00:01:00Z');
    const text = streamGauges(
      [
        { feedId: 'a', counts: { pending: 2, delivered: 5, acked: 0, dead: 1 }, oldestPendingAt: new Date('2026-01-01T00:00:30Z') },
        { feedId: 'b', counts: { pending: 0, delivered: 0, acked: 0, dead: 0 }, oldestPendingAt: undefined },
      ],
      now,
    );
    expect(text).toContain('# TYPE scimcast_stream_backlog gauge\nscimcast_stream_backlog{stream="a"} 2\nscimcast_stream_backlog{stream="b"} 0\n');
    expect(text).toContain('scimcast_stream_oldest_pending_seconds{stream="a"} 30\n');
    expect(text).toContain('scimcast_stream_oldest_pending_seconds{stream="b"} 0\n');
    expect(text).toContain('scimcast_stream_sets{stream="a",state="delivered"} 5\n');
    expect(text).toContain('scimcast_stream_sets{stream="a",state="dead"} 1\n');
  });
});

describe('mergeExpositions: one scrape for two processes', () => {
  it('adds up the same series, keeps one HELP and TYPE per family, and keeps series only one process has', () => {
    const api = makeAppMetrics();
    const worker = makeAppMetrics();
    const at = new Date('2026-01-01T00:00:00Z');
    api.httpRequests.inc({ method: 'GET', route: '/scim/v2/Users', status: '200' });
    api.setsCreated.inc({ stream: 'a' }, 2);
    worker.setsCreated.inc({ stream: 'a' }, 3);
    worker.setsCreated.inc({ stream: 'b w' });
    worker.pushAnswered('a', { kind: 'delivered' }, at, new Date(at.getTime() + 20));
    api.pushAnswered('a', { kind: 'delivered' }, at, new Date(at.getTime() + 2_000));
    const text = mergeExpositions([api.registry.render(), worker.registry.render()]);
    expect(text.match(/^# HELP scimcast_sets_created_total /gm)).toHaveLength(1);
    expect(text.match(/^# TYPE scimcast_push_delivery_seconds histogram$/gm)).toHaveLength(1);
    expect(text).toContain('scimcast_sets_created_total{stream="a"} 5\n');
    expect(text).toContain('scimcast_sets_created_total{stream="b w"} 1\n');
    expect(text).toContain('scimcast_http_requests_total{method="GET",route="/scim/v2/Users",status="200"} 1\n');
    expect(text).toContain('scimcast_push_delivery_seconds_bucket{stream="a",le="0.025"} 1\n');
    expect(text).toContain('scimcast_push_delivery_seconds_bucket{stream="a",le="+Inf"} 2\n');
    expect(text).toContain('scimcast_push_delivery_seconds_count{stream="a"} 2\n');
    expect(text).toContain('scimcast_push_delivery_seconds_sum{stream="a"} 2.02\n');
  });

  it('one render passes through unchanged', () => {
    const m = makeAppMetrics();
    m.setsAcked.inc({ stream: 'x' }, 4);
    expect(mergeExpositions([m.registry.render()])).toBe(m.registry.render());
    expect(mergeExpositions([m.registry.render(), ''])).toBe(m.registry.render());
  });
});
