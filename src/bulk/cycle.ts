import { ScimError } from '../core/errors.js';
import type { ProvisioningCtx } from '../provisioning/context.js';
import type { Outcome } from '../provisioning/outcome.js';
import { passwordsIn } from '../provisioning/password.js';
import { createResource, replaceResource } from '../provisioning/write.js';
import { unresolvableCycle } from './plan.js';
import type { CycleMember } from './run.js';

/**
 * RFC 7644 §3.7.1 circular references, resolved: create every member without its cyclic
 * references, then replace each with its full data now that all ids exist. Runs on a ctx bound
 * to one transaction, so the group is never left half-linked. Returns each member's final state
 * reported as a creation (201).
 *
 * When the attempt fails, the cycle cannot be resolved this way (a reference in a required
 * attribute such as userName, a group that would contain itself, data the server refuses): it
 * throws the 409 of RFC 7644 §3.7.1 naming the members and the cause, and the caller's transaction rolls
 * back every member (nothing of the cycle is written).
 */
export async function runCycleInTx(ctx: ProvisioningCtx, members: CycleMember[]): Promise<Outcome[]> {
  const indexes = members.map((m) => m.index);
  const attempt = async <T>(what: string, index: number, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof ScimError)) throw e;
      throw unresolvableCycle(indexes, `${what} Operations[${index}] failed: ${e.detail}`);
    }
  };
  const created: Outcome[] = [];
  const newIds = new Map<string, string>();
  for (const m of members) {
    const sub = { ...ctx, txn: ctx.txn && { ...ctx.txn, index: m.index } };
    const o = await attempt('creating', m.index, () => createResource(sub, m.create.type, m.create.body));
    created.push(o);
    if (m.create.bulkId) newIds.set(m.create.bulkId, o.id);
  }
  const final: Outcome[] = [];
  for (const [k, m] of members.entries()) {
    const sub = { ...ctx, txn: ctx.txn && { ...ctx.txn, index: m.index } };
    const o = await attempt('completing', m.index, () => replaceResource(sub, m.create.type, created[k]!.id, m.fillBody(newIds)));
    final.push({ ...o, status: 201 });
  }
  return final;
}

/**
 * The passwords `runCycleInTx` stores, for hashing them before its transaction opens: each
 * member is created and then replaced with its full data, so a password is stored (and hashed,
 * with its own salt) twice. Cycles with passwords are rare (users whose `manager` references
 * run in a circle), but their transaction should not wait on the hash pool either.
 */
export function cyclePasswords(members: readonly CycleMember[]): string[] {
  return members.flatMap((m) => passwordsIn('POST', m.create.type, m.create.body)).flatMap((pw) => [pw, pw]);
}
