import { es256PerSecond } from '../baselines/es256.js';
import { makeClient } from '../lib/client.js';
import { runLoad } from '../lib/load.js';
import { startHelper } from '../lib/processes.js';
import { fmt, withRss, type Ctx } from './context.js';

/**
 * The machine's ceilings measured first: a fastify hello-world through the same
 * load generator at 64 clients (HTTP ceiling) and jose ES256 signatures per second (SET ceiling).
 * The raw INSERT ceiling is measured beside each bulk run (scenarios/bulk.ts).
 */
export async function ceilings(ctx: Ctx): Promise<void> {
  const hello = await startHelper('bench/baselines/hello-server.ts');
  const client = makeClient(hello.url, { connections: 64 });
  try {
    const [r, rss] = await withRss(hello, () => runLoad({ concurrency: 64, ...ctx.timed }, async () => void (await client.call('GET', '/'))));
    ctx.ceilings.http = { name: 'fastify hello-world', perSec: r.perSec, p50: r.p50, p99: r.p99, ops: r.ops, errors: r.errors, rssMb: rss };
    ctx.log(`ceiling: fastify hello-world ${fmt(r.perSec)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`);
  } finally {
    await client.close();
    await hello.stop();
  }
  const es = await es256PerSecond(ctx.quick ? 1_000 : 3_000);
  ctx.ceilings.es256 = { name: 'jose ES256 signs', perSec: es.perSec, ops: es.ops };
  ctx.log(`ceiling: jose ES256 ${fmt(es.perSec)} signatures/s (one thread, ${es.bytes}-byte SETs)`);
}
