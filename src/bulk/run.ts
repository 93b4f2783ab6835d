import { badRequest, notFound, ScimError } from '../core/errors.js';
import type { OperationRequest, OperationResult } from '../provisioning/operation.js';
import type { BulkOperation, BulkRequest } from '../scim/messages/bulk.js';
import { parseResourcePath, type ResourceTypeName } from '../scim/resource-types.js';
import { failOnErrorsReached, planBulk, unresolvableCycle } from './plan.js';
import { findRefs, resolvePathRefs, resolveRefs } from './references.js';

/**
 * How operations are carried out: synchronously for POST /Bulk, or by the worker, which records
 * each result with its asyncresp SETs: the same engine on both paths, so a request answers the
 * same whether it ran synchronously or not.
 */
export interface BulkExecutor {
  run(index: number, op: OperationRequest): Promise<OperationResult>;
  /** Create each POST with its cyclic references stripped, then PUT its full data; one transaction. */
  runCycle(members: CycleMember[]): Promise<OperationResult[]>;
  fail(index: number, op: Pick<OperationRequest, 'method' | 'bulkId' | 'type' | 'id'>, e: ScimError): Promise<OperationResult>;
  /**
   * Optional: many independent creations at once (multi-row statements), all or nothing. `undefined` means
   * the batch failed and nothing was written; the engine then runs each operation on its own.
   */
  runMany?(items: { index: number; op: OperationRequest }[]): Promise<OperationResult[] | undefined>;
  /** Most creations handed to runMany at once (default BATCH). */
  readonly batchSize?: number;
}

/** Creations per batch: big enough to amortise commits, small enough to bound memory and retries. */
const BATCH = 2000;

export interface CycleMember {
  index: number;
  create: OperationRequest;
  /** The full data with every reference resolved, once the cycle's own ids exist. */
  fillBody: (newIds: ReadonlyMap<string, string>) => unknown;
}

function target(op: BulkOperation, path: string): { type: ResourceTypeName; id?: string } {
  const ref = parseResourcePath(path);
  if (!ref) throw notFound(`Operations[${op.index}]: no endpoint ${path}`);
  if (op.method === 'POST' && ref.id) throw badRequest('invalidPath', `Operations[${op.index}]: POST goes to the resource type endpoint, not ${path}`);
  if (op.method !== 'POST' && !ref.id) throw badRequest('invalidPath', `Operations[${op.index}]: ${op.method} needs a resource path such as /Users/<id>`);
  return ref.id ? { type: ref.type, id: ref.id } : { type: ref.type };
}

/** Shape for a failure that happens before the operation could be mapped. */
function bare(op: BulkOperation): Pick<OperationRequest, 'method' | 'bulkId' | 'type' | 'id'> {
  const ref = parseResourcePath(op.path);
  return { method: op.method, bulkId: op.bulkId, type: ref?.type ?? 'User', id: ref?.id };
}

export interface BulkRun {
  /** Results by the operation's index in the request, whatever the run order (RFC 9967 §2.5.1.2). */
  results: Map<number, OperationResult>;
  /**
   * Operations this run recorded as not processed because failOnErrors was reached (`skipped:
   * 'fail'`); a synchronous BulkResponse leaves them out (RFC 7644 §3.7.3).
   */
  skipped: Set<number>;
}

/**
 * Drive a BulkRequest through the executor in dependency order (RFC 7644 §3.7). `prior` holds
 * results recorded by an earlier, interrupted run (async retries skip them). After failOnErrors
 * errors, the rest are omitted (`skipped: 'omit'`, RFC 7644 §3.7.3) or each recorded as a 424
 * failure (`'fail'`, async: RFC 9967 §2.5.1.2 wants one asyncresp per requested operation, and
 * a client waiting for all of them must not wait forever).
 */
export async function executeBulk(
  req: BulkRequest,
  ex: BulkExecutor,
  opts: { prior?: ReadonlyMap<number, OperationResult>; skipped: 'omit' | 'fail' },
): Promise<BulkRun> {
  const ops = req.operations;
  const results = new Map<number, OperationResult>(opts.prior ?? []);
  const skipped = new Set<number>();
  const ids = new Map<string, string>();
  const failedBulkIds = new Map<string, number>();
  const definedBy = new Map<string, number>();
  for (const op of ops) if (op.method === 'POST' && op.bulkId && !op.invalid) definedBy.set(op.bulkId, op.index);
  let errors = 0;
  const note = (op: BulkOperation, r: OperationResult) => {
    results.set(op.index, r);
    if (Number(r.status) >= 400) {
      errors++;
      if (op.bulkId) failedBulkIds.set(op.bulkId, op.index);
    } else if (op.method === 'POST' && op.bulkId && r.resourceId) ids.set(op.bulkId, r.resourceId);
  };
  for (const [i, r] of results) note(ops[i]!, r);

  /** Map an operation to a provisioning request with every reference resolved, or throw why not. */
  const prepare = (op: BulkOperation, data: unknown): OperationRequest => {
    if (op.invalid) throw op.invalid;
    const path = resolvePathRefs(op.path, ids);
    const body = resolveRefs(data, ids);
    for (const ref of [...path.missing, ...body.missing]) {
      const failed = failedBulkIds.get(ref);
      if (failed !== undefined) throw new ScimError(424, undefined, `bulkId '${ref}' refers to Operations[${failed}], which failed`);
      if (!definedBy.has(ref)) throw badRequest('invalidValue', `bulkId '${ref}' is not defined by any POST operation in this request`);
      throw new ScimError(409, undefined, `bulkId '${ref}' could not be resolved`);
    }
    return { method: op.method, ...target(op, path.value), body: body.value, ifMatch: op.version, bulkId: op.bulkId };
  };

  /**
   * The POSTs from steps[n] on that can go in one batch: consecutive, not done yet, and with every
   * reference already resolved (so none depends on another in the batch).
   */
  const batchFrom = (n: number): { index: number; op: OperationRequest }[] => {
    const out: { index: number; op: OperationRequest }[] = [];
    const max = ex.batchSize ?? BATCH;
    for (let k = n; k < steps.length && out.length < max; k++) {
      const step = steps[k]!;
      if (step.kind !== 'op') break;
      const op = ops[step.index]!;
      if (op.method !== 'POST' || op.invalid || results.has(op.index)) break;
      if ([...findRefs(op.path, op.data)].some((ref) => !ids.has(ref))) break;
      try {
        out.push({ index: op.index, op: prepare(op, op.data) });
      } catch {
        break;
      }
    }
    return out;
  };

  const steps = planBulk(ops);
  /**
   * After a batch is refused (one of its rows conflicts), its steps run one by one, so that only
   * the bad operation fails. Retrying a batch from the next step instead would try the bad row
   * again in every following batch: quadratic work for one conflict.
   */
  let singlesUntil = -1;
  for (let n = 0; n < steps.length; n++) {
    const step = steps[n]!;
    if (failOnErrorsReached(errors, req.failOnErrors)) {
      if (opts.skipped === 'fail') {
        for (const rest of steps.slice(n)) {
          const indexes = rest.kind === 'cycle' ? rest.members.map((m) => m.index) : [rest.index];
          for (const i of indexes) {
            if (results.has(i)) continue;
            results.set(i, await ex.fail(i, bare(ops[i]!), new ScimError(424, undefined, `not processed: failOnErrors limit of ${req.failOnErrors} reached`)));
            skipped.add(i);
          }
        }
      }
      break;
    }
    if (step.kind === 'op') {
      const op = ops[step.index]!;
      if (results.has(op.index)) continue;
      const batch = ex.runMany && n >= singlesUntil ? batchFrom(n) : [];
      if (batch.length > 1) {
        const done = await ex.runMany!(batch);
        if (done) {
          batch.forEach((b, k) => note(ops[b.index]!, done[k]!));
          n += batch.length - 1;
          continue;
        }
        singlesUntil = n + batch.length;
      }
      let request: OperationRequest;
      try {
        request = prepare(op, op.data);
      } catch (e) {
        if (!(e instanceof ScimError)) throw e;
        note(op, await ex.fail(op.index, bare(op), e));
        continue;
      }
      note(op, await ex.run(op.index, request));
      continue;
    }
    const members = step.members.filter((m) => !results.has(m.index));
    if (members.length === 0) continue;
    // A member that cannot even be mapped (a bad path, a reference to a failed operation) fails
    // with its own error; the rest of the cycle cannot be resolved without it (RFC 7644 §3.7.1): 409.
    const prepared: CycleMember[] = [];
    const refused: { index: number; error: ScimError }[] = [];
    for (const m of members) {
      const op = ops[m.index]!;
      try {
        prepared.push({
          index: m.index,
          create: prepare(op, m.stripped),
          fillBody: (newIds: ReadonlyMap<string, string>) => resolveRefs(op.data, new Map([...ids, ...newIds])).value,
        });
      } catch (e) {
        if (!(e instanceof ScimError)) throw e;
        refused.push({ index: m.index, error: e });
      }
    }
    if (refused.length > 0) {
      for (const r of refused) note(ops[r.index]!, await ex.fail(r.index, bare(ops[r.index]!), r.error));
      const why = unresolvableCycle(
        step.members.map((m) => m.index),
        `${refused.map((r) => `Operations[${r.index}]`).join(', ')} failed`,
      );
      for (const p of prepared) note(ops[p.index]!, await ex.fail(p.index, p.create, why));
      continue;
    }
    const created = await ex.runCycle(prepared);
    members.forEach((m, k) => note(ops[m.index]!, created[k]!));
  }
  return { results, skipped };
}
