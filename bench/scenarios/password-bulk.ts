import { bulkUser } from '../lib/bulk-body.js';
import { makeClient } from '../lib/client.js';
import { sleep, summarize } from '../lib/stats.js';
import { timedBulk } from './bulk.js';
import { fmt, withRss, type Ctx } from './context.js';

/** Probes per second, sent on a fixed schedule whatever the answers do (open loop). */
const PROBE_RATE = 50;

/**
 * Liveness while passwords are hashed: one synchronous POST /Bulk of users that all carry a
 * password (2,000; 300 in --quick), while GET /healthz goes out at a fixed 50/s. Each password is
 * an scrypt hash of about 50 ms of CPU; hashed on the event loop, the bulk would hold every
 * probe for its whole duration. Target: /healthz p99 < 100 ms. The probes have their own
 * connections, so they never queue behind the bulk's. A probe's latency runs from its send to its
 * answer; the generator's own lateness (a loaded machine) is reported apart as `late`.
 */
export async function passwordBulk(ctx: Ctx): Promise<void> {
  const users = ctx.quick ? 300 : 2_000;
  const tag = `pw${Date.now().toString(36)}`;
  const body = {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
    Operations: Array.from({ length: users }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: { ...bulkUser(tag, i), password: `${tag}-Secret-${i}!` } })),
  };
  const probes = makeClient(ctx.scim.origin, { connections: 16, timeoutMs: 600_000 });
  const latencies: number[] = [];
  const late: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let running = true;
  const inFlight: Promise<void>[] = [];
  const probing = (async () => {
    const start = performance.now();
    for (let k = 0; running; k++) {
      const due = start + (k * 1000) / PROBE_RATE;
      await sleep(Math.max(0, due - performance.now()));
      if (!running) break;
      const t0 = performance.now();
      late.push(t0 - due);
      inFlight.push(
        probes.call('GET', '/healthz', { expect: 200 }).then(
          () => void latencies.push(performance.now() - t0),
          (e) => {
            errors++;
            firstError ??= e instanceof Error ? e.message : String(e);
          },
        ),
      );
    }
  })();
  let bulkMs = NaN;
  try {
    const [ms, rss] = await withRss(ctx.scim, async () => {
      await sleep(500); // probes first, so the figures include the bulk's start
      return timedBulk(ctx.scim.client, body);
    });
    bulkMs = ms;
    running = false;
    await probing;
    await Promise.all(inFlight);
    const s = summarize(latencies);
    const lateness = summarize(late);
    ctx.log(
      `password bulk: ${fmt(users)} users with passwords in ${(bulkMs / 1000).toFixed(1)} s (${fmt(users / (bulkMs / 1000))} users/s); ` +
        `/healthz at ${PROBE_RATE}/s: ${s.n} answered, ${errors} failed, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms (generator late p99 ${lateness.p99.toFixed(1)} ms)`,
    );
    ctx.rows.push({
      id: 'password-bulk',
      scenario: `GET /healthz at ${PROBE_RATE}/s (open loop) during POST /Bulk of ${fmt(users)} users with passwords`,
      unit: 'req/s',
      scimcast: { perSec: s.n / ((bulkMs + 500) / 1000), p50: s.p50, p99: s.p99, ops: s.n, errors, rssMb: rss },
      ceiling: ctx.ceilings.http,
      target: { text: 'p99 < 100 ms', met: errors === 0 && s.p99 < 100 },
      note: `/healthz max ${s.max.toFixed(1)} ms${firstError ? ` (first error: ${firstError})` : ''}; the bulk took ${(bulkMs / 1000).toFixed(1)} s (${fmt(users / (bulkMs / 1000))} users/s, scrypt N=16384 per password); probe generator late p99 ${lateness.p99.toFixed(1)} ms`,
    });
    ctx.extra.passwordBulk = { users, bulkMs, probeRate: PROBE_RATE, healthz: s, errors, firstError, generatorLate: lateness };
  } finally {
    running = false;
    await probing;
    await Promise.all(inFlight);
    await probes.close();
  }
}
