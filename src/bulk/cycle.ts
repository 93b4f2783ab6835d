import type { ProvisioningCtx } from '../provisioning/context.js';
import type { Outcome } from '../provisioning/outcome.js';
import { createResource, replaceResource } from '../provisioning/write.js';
import type { CycleMember } from './run.js';

/**
 * RFC 7644 §3.7.1 circular references, resolved: create every member without its cyclic
 * references, then replace each with its full data now that all ids exist. Runs on a ctx bound
 * to one transaction, so the group is never left half-linked. Returns each member's final state
 * reported as a creation (201).
 */
export async function runCycleInTx(ctx: ProvisioningCtx, members: CycleMember[]): Promise<Outcome[]> {
  const created: Outcome[] = [];
  const newIds = new Map<string, string>();
  for (const m of members) {
    const o = await createResource({ ...ctx, txn: ctx.txn && { ...ctx.txn, index: m.index } }, m.create.type, m.create.body);
    created.push(o);
    if (m.create.bulkId) newIds.set(m.create.bulkId, o.id);
  }
  const final: Outcome[] = [];
  for (const [k, m] of members.entries()) {
    const o = await replaceResource({ ...ctx, txn: ctx.txn && { ...ctx.txn, index: m.index } }, m.create.type, created[k]!.id, m.fillBody(newIds));
    final.push({ ...o, status: 201 });
  }
  return final;
}
