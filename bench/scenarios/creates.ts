import { runLoad, type LoadResult } from '../lib/load.js';
import { createBody } from '../lib/seed-doc.js';
import { fmt, SCIM, withRss, type Ctx } from './context.js';

/** Single creates from 64 concurrent clients, scimcast beside SCIMMY; target ≥ 3× the peer. */
export async function creates(ctx: Ctx): Promise<void> {
  const tag = `c${Date.now().toString(36)}`;
  const [r, rss] = await withRss(ctx.scim, () =>
    runLoad({ concurrency: 64, ...ctx.timed }, async (i) => void (await ctx.scim.client.call('POST', `${SCIM}/Users`, { body: createBody(tag, i), expect: 201 }))),
  );
  ctx.peaks.creates = r.perSec;
  ctx.log(`creates: scimcast ${fmt(r.perSec)}/s p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms`);
  let peer: (LoadResult & { rssMb: number | undefined }) | undefined;
  if (ctx.peer) {
    const p = ctx.peer;
    const [pr, prss] = await withRss(p, () =>
      runLoad({ concurrency: 64, ...ctx.timed }, async (i) => void (await p.client.call('POST', `${SCIM}/Users`, { body: createBody(tag, i), expect: 201 }))),
    );
    peer = { ...pr, rssMb: prss };
    ctx.log(`creates: SCIMMY ${fmt(pr.perSec)}/s p50 ${pr.p50.toFixed(1)} ms p99 ${pr.p99.toFixed(1)} ms`);
  }
  ctx.rows.push({
    id: 'creates',
    scenario: 'POST /Users, 64 clients',
    unit: 'req/s',
    scimcast: { ...r, rssMb: rss },
    peer: peer && { name: 'SCIMMY', ...peer },
    ceiling: ctx.ceilings.http,
    target: { text: '≥ 3× peer', met: peer ? r.perSec >= 3 * peer.perSec : undefined },
  });
}
