import type { Client } from '../lib/client.js';
import type { Child } from '../lib/processes.js';
import type { Figure } from '../lib/report.js';
import { GROUP_SCHEMA } from '../lib/seed-doc.js';
import { seedGroup } from '../lib/seed.js';
import { summarize } from '../lib/stats.js';
import { runLoad } from '../lib/load.js';
import { fmt, SCIM, withRss, type Ctx } from './context.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * One member added to a group, then removed again so the group keeps its size, by one client
 * (a latency figure, not throughput). Only the adds are the figure; removes are kept apart.
 */
export async function memberAddLatency(client: Client, child: Child | undefined, groupId: string, probeId: string, rounds: number, warmup: number) {
  const add = { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: probeId }] }] };
  const remove = { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${probeId}"]` }] };
  const adds: number[] = [];
  const removes: number[] = [];
  const [, rss] = await withRss(child, async () => {
    for (let i = 0; i < warmup + rounds; i++) {
      let t = performance.now();
      await client.call('PATCH', `${SCIM}/Groups/${groupId}`, { body: add, expect: 204 });
      if (i >= warmup) adds.push(performance.now() - t);
      t = performance.now();
      await client.call('PATCH', `${SCIM}/Groups/${groupId}`, { body: remove, expect: 204 });
      if (i >= warmup) removes.push(performance.now() - t);
    }
  });
  const a = summarize(adds);
  const secs = adds.reduce((x, y) => x + y, 0) / 1000;
  return { add: { ...a, ops: a.n, perSec: a.n / secs, rssMb: rss } satisfies Figure, remove: summarize(removes) };
}

/** A probe user that is in no group, to add and remove. */
export async function probeUser(client: Client, name: string): Promise<string> {
  const u = await client.json<{ id: string }>('POST', `${SCIM}/Users`, { body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: name }, expect: 201 });
  return u.id;
}

/**
 * Member add to a group holding the whole seeded population (100,000), beside a 1-member group
 * (target p50 < 2 ms); then 16 clients, each adding new members one by one to a group of its own of
 * the same size (target ≥ 1,000/s).
 */
export async function memberAdd(ctx: Ctx): Promise<void> {
  const rounds = ctx.quick ? 100 : 500;
  const warmup = ctx.quick ? 20 : 50;
  const probe = await probeUser(ctx.scim.client, `probe-${Date.now()}`);
  const small = await ctx.scim.client.json<{ id: string }>('POST', `${SCIM}/Groups`, { body: { schemas: [GROUP_SCHEMA], displayName: `small-${Date.now()}` }, expect: 201 });
  const seedMember = await probeUser(ctx.scim.client, `member-${Date.now()}`);
  await ctx.scim.client.call('PATCH', `${SCIM}/Groups/${small.id}`, { body: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: seedMember }] }] }, expect: 204 });
  const t0 = performance.now();
  const big = await seedGroup(ctx.db, `big-${ctx.population}`, ctx.population);
  ctx.log(`member add: seeded a ${fmt(ctx.population)}-member group in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const s = await memberAddLatency(ctx.scim.client, ctx.scim, small.id, probe, rounds, warmup);
  const b = await memberAddLatency(ctx.scim.client, ctx.scim, big, probe, rounds, warmup);
  ctx.log(`member add: 1-member group p50 ${s.add.p50.toFixed(2)} ms; ${fmt(ctx.population)}-member group p50 ${b.add.p50.toFixed(2)} ms p99 ${b.add.p99.toFixed(2)} ms (remove p50 ${b.remove.p50.toFixed(2)} ms)`);
  ctx.rows.push({
    id: 'member-add',
    scenario: `PATCH add 1 member to a ${fmt(ctx.population)}-member group, 1 client`,
    unit: 'req/s',
    scimcast: b.add,
    ceiling: { name: 'same PATCH, 1-member group', ...s.add },
    target: { text: 'p50 < 2 ms', met: b.add.p50 < 2 },
    note: `remove p50 ${b.remove.p50.toFixed(2)} ms, p99 ${b.remove.p99.toFixed(2)} ms`,
  });
}

/** 16 clients on 16 groups of `ctx.population` members, one new member per PATCH. */
export async function memberAddThroughput(ctx: Ctx): Promise<void> {
  const t0 = performance.now();
  const groups: string[] = [];
  for (let g = 0; g < 16; g++) groups.push(await seedGroup(ctx.db, `wide-${g}-${Date.now()}`, ctx.population));
  ctx.log(`member add: seeded 16 groups of ${fmt(ctx.population)} members in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // New members: users that are in none of these groups, made through the API beforehand.
  const fresh: string[] = [];
  const tag = `wide-${Date.now().toString(36)}`;
  const need = ctx.quick ? 6_000 : 30_000;
  await runLoad({ concurrency: 32, count: need }, async (i) => void fresh.push((await ctx.scim.client.json<{ id: string }>('POST', `${SCIM}/Users`, { body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `${tag}-${i}` }, expect: 201 })).id));
  let k = 0;
  const free = [...groups];
  const [r, rss] = await withRss(ctx.scim, () =>
    runLoad({ concurrency: 16, ...ctx.timed }, async () => {
      const member = fresh[k++ % fresh.length]!;
      // Each client holds a group of its own while its request runs: no two adds race on one group.
      const group = free.shift()!;
      try {
        await ctx.scim.client.call('PATCH', `${SCIM}/Groups/${group}`, { body: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: member }] }] }, expect: 204 });
      } finally {
        free.push(group);
      }
    }),
  );
  ctx.log(`member add, 16 clients on 16 groups: ${fmt(r.perSec)}/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms`);
  ctx.rows.push({
    id: 'member-add-16',
    scenario: `PATCH add 1 member, 16 clients on 16 groups of ${fmt(ctx.population)} members`,
    unit: 'req/s',
    scimcast: { ...r, rssMb: rss },
    ceiling: ctx.ceilings.http,
    target: { text: '≥ 1,000/s', met: r.perSec >= 1_000 },
    note: fresh.length < r.ops ? 'some members were added again (already there: no change, still a 204)' : undefined,
  });
}
