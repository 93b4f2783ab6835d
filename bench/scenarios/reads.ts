import type { Client } from '../lib/client.js';
import { runLoad, type LoadOptions, type LoadResult } from '../lib/load.js';
import type { Child } from '../lib/processes.js';
import type { Figure } from '../lib/report.js';
import { seedEmail, seedUserName } from '../lib/seed-doc.js';
import { seedUsers } from '../lib/seed.js';
import { fmt, SCIM, withRss, type Ctx } from './context.js';

/** The two benchmarked filters (userName eq, emails.value eq), each matching exactly one seeded user. */
export const FILTERS = {
  eq: { label: 'filter userName eq', make: (i: number) => `userName eq "${seedUserName(i)}"` },
  co: { label: 'filter emails[type eq "work" and value co …]', make: (i: number) => `emails[type eq "work" and value co "${seedEmail(i).replace('@example.com', '@')}"]` },
} as const;
export type FilterKind = keyof typeof FILTERS;

/** The peer's read load: a fixed count, few clients (see reads()). */
const PEER_READ_LOAD = (quick: boolean) => ({ concurrency: 4, warmupCount: 4, count: quick ? 8 : 16 });

/** Random seeded users by filter; every answer must hold exactly that user. */
export async function filteredReads(client: Client, child: Child | undefined, kind: FilterKind, population: number, load: LoadOptions): Promise<LoadResult & { rssMb: number | undefined }> {
  const [r, rss] = await withRss(child, () =>
    runLoad(load, async () => {
      const i = Math.floor(Math.random() * population);
      const res = await client.json<{ totalResults: number }>('GET', `${SCIM}/Users?filter=${encodeURIComponent(FILTERS[kind].make(i))}`, { expect: 200 });
      if (res.totalResults !== 1) throw new Error(`${FILTERS[kind].make(i)} matched ${res.totalResults}`);
    }),
  );
  return { ...r, rssMb: rss };
}

/**
 * Filtered reads over the seeded population (100,000 users), scimcast beside SCIMMY (target ≥ 5×),
 * then listing with paging: RFC 9865 cursors and RFC 7644 startIndex walks, 100 per page.
 */
export async function reads(ctx: Ctx): Promise<void> {
  const pop = ctx.population;
  ctx.log(`seeding ${fmt(pop)} users into scimcast (SQL) …`);
  const secs = await seedUsers(ctx.db, 0, pop, ctx.log);
  ctx.log(`  done in ${secs.toFixed(1)} s`);
  if (ctx.peer) await ctx.peer.client.call('POST', `/__bench/seed?n=${pop}`);

  const load = { concurrency: 64, ...ctx.timed };
  for (const kind of ['eq', 'co'] as const) {
    const r = await filteredReads(ctx.scim.client, ctx.scim, kind, pop, load);
    ctx.log(`reads ${kind}: scimcast ${fmt(r.perSec)}/s p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms`);
    let peer: (Figure & { name: string }) | undefined;
    if (ctx.peer) {
      // SCIMMY filters in memory on its one thread, so it serves one filter at a time: 64 clients
      // would only queue (at 100,000 users each request waited over a minute and the run never
      // ended). Its throughput is measured with 4 clients over a fixed count instead; the ratio is
      // of throughputs, which queueing does not change.
      const p = await filteredReads(ctx.peer.client, ctx.peer, kind, pop, PEER_READ_LOAD(ctx.quick));
      ctx.log(`reads ${kind}: SCIMMY ${fmt(p.perSec)}/s p50 ${p.p50.toFixed(1)} ms p99 ${p.p99.toFixed(1)} ms`);
      peer = { name: 'SCIMMY', ...p };
    }
    ctx.rows.push({
      id: `read-${kind}`,
      scenario: `GET /Users?${FILTERS[kind].label}, ${fmt(pop)} users, 64 clients`,
      unit: 'req/s',
      scimcast: r,
      peer,
      ceiling: ctx.ceilings.http,
      target: { text: '≥ 5× peer', met: peer?.perSec ? r.perSec >= 5 * peer.perSec : undefined },
      ...(peer ? { note: `SCIMMY measured with ${PEER_READ_LOAD(ctx.quick).concurrency} clients and ${PEER_READ_LOAD(ctx.quick).count} requests (it serves one in-memory filter at a time)` } : {}),
    });
  }

  // Get by id (RFC 7644 §3.4.1) of random seeded users.
  const { rows: idRows } = await ctx.db.query<{ id: string }>(`select id from resources where resource_type = 'User' order by random() limit 1000`);
  const [byId, byIdRss] = await withRss(ctx.scim, () =>
    runLoad(load, async () => {
      const id = idRows[Math.floor(Math.random() * idRows.length)]!.id;
      const res = await ctx.scim.client.json<{ id: string }>('GET', `${SCIM}/Users/${id}`, { expect: 200 });
      if (res.id !== id) throw new Error(`GET /Users/${id} answered ${res.id}`);
    }),
  );
  ctx.log(`get by id: ${fmt(byId.perSec)}/s p50 ${byId.p50.toFixed(1)} ms p99 ${byId.p99.toFixed(1)} ms`);
  ctx.rows.push({ id: 'read-by-id', scenario: `GET /Users/{id}, ${fmt(pop)} users, 64 clients`, unit: 'req/s', scimcast: { ...byId, rssMb: byIdRss }, ceiling: ctx.ceilings.http });

  // Cursor paging: each client walks its own cursor chain, one page per request.
  const cursors = new Map<number, string>();
  let worker = 0;
  const [cur, curRss] = await withRss(ctx.scim, () =>
    runLoad({ concurrency: 64, ...ctx.timed }, async () => {
      const w = worker++ % 64;
      const at = cursors.get(w) ?? '';
      const res = await ctx.scim.client.json<{ nextCursor?: string; Resources: unknown[] }>('GET', `${SCIM}/Users?count=100&cursor=${encodeURIComponent(at)}`, { expect: 200 });
      if (res.Resources.length === 0) throw new Error('empty page');
      cursors.set(w, res.nextCursor ?? '');
    }),
  );
  ctx.log(`list cursor: ${fmt(cur.perSec)} pages/s p50 ${cur.p50.toFixed(1)} ms p99 ${cur.p99.toFixed(1)} ms`);
  ctx.rows.push({ id: 'list-cursor', scenario: `GET /Users, cursor paging (RFC 9865), 100 per page, ${fmt(pop)}+ users, 64 clients`, unit: 'pages/s', scimcast: { ...cur, rssMb: curRss }, ceiling: ctx.ceilings.http });

  // Index paging: clients walk startIndex from 1 in steps of 100, as IdPs do, wrapping at the end.
  let page = 0;
  const pages = Math.floor(pop / 100);
  const [idx, idxRss] = await withRss(ctx.scim, () =>
    runLoad({ concurrency: 64, ...ctx.timed }, async () => {
      const start = (page++ % pages) * 100 + 1;
      const res = await ctx.scim.client.json<{ Resources: unknown[] }>('GET', `${SCIM}/Users?count=100&startIndex=${start}`, { expect: 200 });
      if (res.Resources.length !== 100) throw new Error(`page at ${start} held ${res.Resources.length}`);
    }),
  );
  ctx.log(`list index: ${fmt(idx.perSec)} pages/s p50 ${idx.p50.toFixed(1)} ms p99 ${idx.p99.toFixed(1)} ms`);
  ctx.rows.push({ id: 'list-index', scenario: `GET /Users, startIndex paging walk, 100 per page, ${fmt(pop)}+ users, 64 clients`, unit: 'pages/s', scimcast: { ...idx, rssMb: idxRss }, ceiling: ctx.ceilings.http });
}
