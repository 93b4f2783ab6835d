import type { DependencyPlan } from './dependencies.js';
import type { ImportItem, ItemType } from './items.js';
import { addMembersOp, createOp, replaceOp, type WireMember, type WireOp } from './operations.js';
import { fitMembers, jsonBytes, RequestBudget } from './request-size.js';
import type { OpResult } from './results.js';
import { isThrottle, isTransient } from './retry.js';

/**
 * Where each item of an import stands, and which requests come next. Pure: the client asks for
 * work (lookups, batches), performs it, and hands the answers back; nothing here does I/O, so
 * the ordering, splitting and retry rules are unit-tested without a server.
 *
 * Life of an item: `lookup` (does its externalId exist on the server?) → `write` (POST, or PUT
 * when it exists) → `sending` → `members` (a group whose remaining members are added by PATCH:
 * cycle-broken references, or members that did not fit one request) → `done`; or `failed`, or
 * `skipped` when the import stops early (`--fail-on-errors`).
 */
export type Phase = 'lookup' | 'write' | 'sending' | 'members' | 'done' | 'failed' | 'skipped';
export type Outcome = 'created' | 'updated';

export interface Failure {
  status?: number | undefined;
  scimType?: string | undefined;
  reason: string;
}

type Ref =
  | { kind: 'item'; target: Entry; type?: string | undefined }
  | { kind: 'external'; externalId: string; type?: string | undefined }
  | { kind: 'id'; value: string; type?: string | undefined };

export interface Entry {
  readonly index: number;
  readonly item: ImportItem;
  /** Unique across the import, so unique in every request (RFC 7644 §3.7: client-assigned). */
  readonly bulkId: string;
  phase: Phase;
  id: string | undefined;
  /** The externalId is on the server already: the write is a PUT. */
  exists: boolean;
  /** Set before the write when it is already known how it counts (a resumed creation). */
  outcome: Outcome | undefined;
  failure: Failure | undefined;
  attempts: number;
  /** A write was sent and no answer came: look the externalId up before writing again. */
  uncertain: 'POST' | 'PUT' | undefined;
  /** A POST answered 409: if the lookup finds the externalId, update it; else this is the failure. */
  conflict: Failure | undefined;
  refs: Ref[];
  /** Members added by PATCH once the group exists (and the member does). */
  deferred: Set<Ref>;
  /** Resolved members still to add by PATCH. */
  pendingAdds: WireMember[];
  addsInFlight: boolean;
  memberFailures: string[];
  lookingUp: boolean;
}

export type OpKind = 'create' | 'replace' | 'members';

export interface PlannedOp {
  readonly kind: OpKind;
  readonly entry: Entry;
  readonly wire: WireOp;
  /** members: those this PATCH adds; create/replace: resolved members left out for size. */
  readonly members: WireMember[];
}

export interface Batch {
  readonly ops: PlannedOp[];
  /** Bytes of the BulkRequest body these operations make (with `failOnErrors`, if any). */
  readonly bytes: number;
  readonly failOnErrors: number | undefined;
}

export interface BatchLimits {
  readonly maxOperations: number;
  readonly maxBytes: number;
  /** In one Bulk request, a member may be `bulkId:` of a POST earlier in the same request. */
  readonly bulkIds: boolean;
  /** PATCH is available (SPC patch.supported); otherwise late members go by a PUT of the whole group. */
  readonly patch: boolean;
}

export interface LookupTask {
  /** `external`: members not in the file, searched among Users, then Groups. */
  readonly type: ItemType | 'external';
  readonly externalIds: string[];
  readonly entries: Entry[];
}

export interface StateOptions {
  readonly maxAttempts: number;
  /** Stop starting work once this many items failed (RFC 7644 §3.7 failOnErrors, for the whole import). */
  readonly failOnErrors?: number | undefined;
  /** The server can find resources by externalId (SPC filter.supported). */
  readonly lookups: boolean;
  /** Rows that failed before anything was sent (their externalIds, for members naming them). */
  readonly rowErrors?: ReadonlyMap<string, number>;
}

const TERMINAL: ReadonlySet<Phase> = new Set(['done', 'failed', 'skipped']);
/** Below this many bytes of room no operation fits; stop scanning for more. */
const MIN_OP_BYTES = 64;
/** Give up filling a request after this many items in a row that do not fit. */
const MAX_MISFITS = 32;

export class ImportState {
  readonly entries: Entry[];
  private readonly order: Entry[];
  private readonly opts: StateOptions;
  private cursor = 0;
  private lookups: boolean;
  private readonly lookupQueue: Record<ItemType, Entry[]> = { user: [], group: [] };
  private readonly lookupHead: Record<ItemType, number> = { user: 0, group: 0 };
  /** externalIds of members not in the file → the server's id, or why there is none; absent while unknown. */
  private readonly external = new Map<string, { id?: string; reason?: string }>();
  private readonly externalQueue: string[] = [];
  private externalInFlight = new Set<string>();
  private readonly byExternalId: Map<string, Entry>;
  private changed: Entry[] = [];
  private failedCount: number;
  private stopping = false;

  constructor(items: readonly ImportItem[], plan: DependencyPlan, opts: StateOptions) {
    this.opts = opts;
    this.lookups = opts.lookups;
    this.failedCount = opts.rowErrors?.size ?? 0;
    this.entries = items.map((item, index) => ({
      index,
      item,
      bulkId: `i${index}`,
      phase: 'write' as Phase,
      id: undefined,
      exists: false,
      outcome: undefined,
      failure: undefined,
      attempts: 0,
      uncertain: undefined,
      conflict: undefined,
      refs: [],
      deferred: new Set<Ref>(),
      pendingAdds: [],
      addsInFlight: false,
      memberFailures: [],
      lookingUp: false,
    }));
    const byExternalId = new Map(this.entries.map((e) => [e.item.externalId, e]));
    this.byExternalId = byExternalId;
    // Which outside members are queued already: a set, since includes() on the queue per member
    // was quadratic (16 s for one group of 100,000 outside members).
    const queued = new Set<string>();
    for (const e of this.entries) {
      const later = plan.deferred.get(e.index);
      const seen = new Set<string>();
      for (const m of e.item.members) {
        const key = 'externalId' in m ? `x:${m.externalId}` : `v:${m.value}`;
        if (seen.has(key)) continue;
        seen.add(key);
        let ref: Ref;
        if ('value' in m) ref = { kind: 'id', value: m.value, type: m.type };
        else {
          const target = byExternalId.get(m.externalId);
          ref = target ? { kind: 'item', target, type: m.type } : { kind: 'external', externalId: m.externalId, type: m.type };
          if (!target && !this.external.has(m.externalId)) {
            const line = opts.rowErrors?.get(m.externalId);
            if (line !== undefined) this.external.set(m.externalId, { reason: `member '${m.externalId}' could not be imported (line ${line})` });
            else if (!this.lookups) this.external.set(m.externalId, { reason: `member '${m.externalId}' is not in the file, and the server cannot be searched by externalId` });
            else if (!queued.has(m.externalId)) {
              queued.add(m.externalId);
              this.externalQueue.push(m.externalId);
            }
          }
          if (target && later?.has(m.externalId)) e.deferred.add(ref);
        }
        e.refs.push(ref);
      }
    }
    this.order = plan.order.map((i) => this.entries[i]!);
    if (this.failedCount > 0) this.checkStop();
  }

  // ---- resuming -------------------------------------------------------------------------------

  /** What the journal of an earlier run knows about an item. Call before start(). */
  restore(externalId: string, rec: { state: 'done' | 'written' | 'sent'; id?: string | undefined; outcome?: Outcome | undefined; method?: 'POST' | 'PUT' | undefined }): void {
    const e = this.byExternalId.get(externalId);
    if (!e) return;
    if (rec.state === 'done' && rec.id) {
      e.phase = 'done';
      e.id = rec.id;
      e.outcome = rec.outcome ?? 'created';
    } else if (rec.state === 'written' && rec.id) {
      // A group written without all of its members: replace it whole to be sure of them.
      e.phase = 'write';
      e.id = rec.id;
      e.exists = true;
      e.outcome = rec.outcome ?? 'created';
    } else if (rec.state === 'sent' && e.phase !== 'done' && !e.id) {
      e.uncertain = rec.method ?? 'POST';
    }
  }

  /** Queue existence checks for everything not known to be done. Call once, after restore(). */
  start(): void {
    for (const e of this.entries) {
      if (e.phase !== 'write' || e.id) continue;
      if (this.lookups) this.toLookup(e);
    }
  }

  // ---- lookups --------------------------------------------------------------------------------

  /** The next existence check: members not in the file first, then items by type. */
  nextLookup(chunkSize: (ids: readonly string[]) => number): LookupTask | undefined {
    if (this.stopping || !this.lookups) return undefined;
    const ext = this.externalQueue.filter((x) => !this.external.has(x) && !this.externalInFlight.has(x));
    if (ext.length) {
      const ids = ext.slice(0, chunkSize(ext));
      ids.forEach((x) => this.externalInFlight.add(x));
      // Rebuilt by a loop, not splice(…, ...rest): a spread passes each id as an argument, and a
      // file naming 100,000s of outside members overflows the call stack.
      this.externalQueue.length = 0;
      for (let i = ids.length; i < ext.length; i++) this.externalQueue.push(ext[i]!);
      return { type: 'external', externalIds: ids, entries: [] };
    }
    for (const type of ['user', 'group'] as const) {
      const q = this.lookupQueue[type];
      while (this.lookupHead[type] < q.length && !this.awaitingLookup(q[this.lookupHead[type]]!)) this.lookupHead[type]++;
      if (this.lookupHead[type] >= q.length) continue;
      // An item may be queued twice (looked up, written, then a 409 sends it back): take it once.
      const candidates = new Set<Entry>();
      for (let k = this.lookupHead[type]; k < q.length && candidates.size < 1000; k++) if (this.awaitingLookup(q[k]!)) candidates.add(q[k]!);
      const n = chunkSize([...candidates].map((e) => e.item.externalId));
      const entries = [...candidates].slice(0, n);
      entries.forEach((e) => (e.lookingUp = true));
      return { type, externalIds: entries.map((e) => e.item.externalId), entries };
    }
    return undefined;
  }

  /** How many items of a type wait for their existence check. */
  awaitingLookups(type: ItemType): number {
    return this.entries.reduce((n, e) => n + (e.item.type === type && this.awaitingLookup(e) ? 1 : 0), 0);
  }

  /** Every item of a type waiting for its existence check, as one task (for a survey that answers all). */
  takeLookups(type: ItemType): LookupTask | undefined {
    const entries = this.entries.filter((e) => e.item.type === type && this.awaitingLookup(e));
    entries.forEach((e) => (e.lookingUp = true));
    return entries.length ? { type, externalIds: entries.map((e) => e.item.externalId), entries } : undefined;
  }

  /** Answers of a lookup: externalId → ids of the resources that carry it. */
  applyLookup(task: LookupTask, found: ReadonlyMap<string, readonly string[]>): void {
    if (task.type === 'external') {
      for (const x of task.externalIds) {
        this.externalInFlight.delete(x);
        const ids = found.get(x) ?? [];
        if (ids.length === 1) this.external.set(x, { id: ids[0]! });
        else if (ids.length === 0) this.external.set(x, { reason: `member '${x}' is neither in the file nor on the server` });
        else this.external.set(x, { reason: `member '${x}' matches ${ids.length} resources on the server` });
      }
      return;
    }
    for (const e of task.entries) {
      e.lookingUp = false;
      if (e.phase !== 'lookup') continue;
      const ids = found.get(e.item.externalId) ?? [];
      if (ids.length > 1) {
        this.fail(e, { reason: `externalId '${e.item.externalId}' matches ${ids.length} resources on the server` });
        continue;
      }
      const conflict = e.conflict;
      e.conflict = undefined;
      if (ids.length === 1) {
        e.id = ids[0]!;
        e.exists = true;
        // Our own earlier POST made it: a creation. Otherwise it was there before: an update.
        if (e.uncertain === 'POST') e.outcome = 'created';
        else e.outcome ??= 'updated';
        e.uncertain = undefined;
        if (e.item.type === 'user' && e.outcome === 'created') this.finish(e);
        else e.phase = 'write';
      } else if (conflict) {
        this.fail(e, conflict);
      } else {
        e.uncertain = undefined;
        e.exists = false;
        e.phase = 'write';
      }
    }
  }

  /** A lookup could not be answered (after retries); its items are tried again or written. */
  lookupFailed(task: LookupTask, reason: string): void {
    if (task.type === 'external') {
      for (const x of task.externalIds) {
        this.externalInFlight.delete(x);
        this.external.set(x, { reason: `member '${x}' could not be looked up: ${reason}` });
      }
      return;
    }
    for (const e of task.entries) {
      e.lookingUp = false;
      if (e.phase === 'lookup' && ++e.attempts >= this.opts.maxAttempts) this.fail(e, { reason: `lookup by externalId failed: ${reason}` });
    }
  }

  /**
   * The server rejects externalId filters: continue without existence checks. Items whose POST
   * may have been applied are written again (the server's uniqueness rules are the last guard).
   */
  disableLookups(reason: string): void {
    this.lookups = false;
    for (const x of [...this.externalQueue, ...this.externalInFlight]) if (!this.external.has(x)) this.external.set(x, { reason: `member '${x}' cannot be looked up: ${reason}` });
    this.externalQueue.length = 0;
    this.externalInFlight.clear();
    for (const e of this.entries) {
      if (e.phase !== 'lookup') continue;
      e.lookingUp = false;
      if (e.conflict) this.fail(e, e.conflict);
      else e.phase = 'write';
    }
  }

  get lookupsEnabled(): boolean {
    return this.lookups;
  }

  // ---- writes ---------------------------------------------------------------------------------

  /**
   * The next request: ready items in dependency order, as many as `maxOperations` and
   * `maxBytes` (the serialized BulkRequest) allow. A group goes in once each member has an id
   * or, with bulkIds, is created earlier in the same request. A group too large for any request
   * is written with the members that fit; the rest follow by PATCH.
   */
  nextBatch(limits: BatchLimits): Batch | undefined {
    if (this.stopping) return undefined;
    const failOnErrors = this.opts.failOnErrors === undefined ? undefined : Math.max(1, this.opts.failOnErrors - this.failedCount);
    const budget = new RequestBudget(limits, failOnErrors);
    const emptyRoom = budget.room;
    const ops: PlannedOp[] = [];
    const inBatch = new Set<Entry>();
    let misfits = 0;
    while (this.cursor < this.order.length && TERMINAL.has(this.order[this.cursor]!.phase)) this.cursor++;
    for (let k = this.cursor; k < this.order.length; k++) {
      if (budget.full || budget.room < MIN_OP_BYTES || misfits >= MAX_MISFITS) break;
      const e = this.order[k]!;
      let planned: { op: PlannedOp; bytes: number } | 'misfit' | undefined;
      if (e.phase === 'write') planned = this.writeOp(e, limits, inBatch, budget.room, budget.count === 0 ? emptyRoom : -1);
      else if (e.phase === 'members') planned = this.membersOp(e, limits, budget.room, budget.count === 0);
      if (planned === 'misfit') {
        misfits++;
        continue;
      }
      if (!planned) continue;
      misfits = 0;
      budget.add(planned.bytes);
      ops.push(planned.op);
      if (planned.op.kind === 'members') e.addsInFlight = true;
      else {
        e.phase = 'sending';
        if (planned.op.kind === 'create') inBatch.add(e);
      }
    }
    return ops.length ? { ops, bytes: budget.size, failOnErrors } : undefined;
  }

  /** The write of one item, or why not now (undefined: wait; 'misfit': no room in this request). */
  private writeOp(e: Entry, limits: BatchLimits, inBatch: ReadonlySet<Entry>, room: number, emptyRoom: number): { op: PlannedOp; bytes: number } | 'misfit' | undefined {
    const resolved = this.resolveMembers(e, limits.bulkIds ? inBatch : undefined);
    if (resolved === 'wait') return undefined;
    if (typeof resolved === 'object' && 'failure' in resolved) {
      this.fail(e, { reason: resolved.failure });
      return undefined;
    }
    const members = resolved;
    const id = e.exists ? e.id : undefined;
    const build = (ms: readonly WireMember[]) => (id ? replaceOp(e.item, id, ms) : createOp(e.item, e.bulkId, ms));
    const kind: OpKind = id ? 'replace' : 'create';
    const whole = build(members);
    const bytes = jsonBytes(whole);
    if (bytes <= room) return { op: { kind, entry: e, wire: whole, members: [] }, bytes };
    // Too big for what is left of this request: try it first in the next one.
    if (emptyRoom < 0) return 'misfit';
    // Too big for any request. A group is split: the members that fit now, the rest by PATCH.
    // (First in an empty request, it has no bulkId: members, so every member it defers has an id.)
    const tooBig = (why: string) => (this.fail(e, { reason: `${bytes} bytes, over the ${limits.maxBytes} the server accepts in one request (maxPayloadSize)${why}` }), undefined);
    if (e.item.type !== 'group') return tooBig('');
    if (!limits.patch) return tooBig(', and the server has no PATCH to add members in parts');
    const fit = fitMembers(build, members, room);
    if (!fit.op) return tooBig(' even without members');
    return { op: { kind, entry: e, wire: fit.op, members: members.slice(fit.taken) }, bytes: fit.bytes };
  }

  /** A PATCH adding a group's remaining members, as many as fit; undefined while none is ready. */
  private membersOp(e: Entry, limits: BatchLimits, room: number, first: boolean): { op: PlannedOp; bytes: number } | 'misfit' | undefined {
    if (e.addsInFlight) return undefined;
    this.resolveDeferred(e);
    if (this.settle(e)) return undefined;
    if (!e.pendingAdds.length) return undefined;
    if (!limits.patch) {
      // No PATCH: once every late member is known, replace the whole group.
      if (e.deferred.size) return undefined;
      e.phase = 'write';
      e.pendingAdds = [];
      return undefined;
    }
    const fit = fitMembers((ms) => addMembersOp(e.id!, ms), e.pendingAdds, room);
    if (!fit.op || fit.taken === 0) return first ? (this.fail(e, { reason: 'a PATCH adding one member does not fit the server maxPayloadSize' }), undefined) : 'misfit';
    if (fit.taken < e.pendingAdds.length && !first && jsonBytes(addMembersOp(e.id!, e.pendingAdds)) <= room) return 'misfit';
    const members = e.pendingAdds.splice(0, fit.taken);
    return { op: { kind: 'members', entry: e, wire: fit.op, members }, bytes: fit.bytes };
  }

  /** Members of a group for its write, `bulkId:` for those created in the same request. */
  private resolveMembers(e: Entry, inBatch: ReadonlySet<Entry> | undefined): WireMember[] | 'wait' | { failure: string } {
    const out: WireMember[] = [];
    for (const ref of e.refs) {
      if (e.deferred.has(ref)) continue;
      const r = this.resolveRef(ref, inBatch);
      if (r === 'wait' || (typeof r === 'object' && 'failure' in r)) return r;
      out.push(r);
    }
    return out;
  }

  private resolveRef(ref: Ref, inBatch: ReadonlySet<Entry> | undefined): WireMember | 'wait' | { failure: string } {
    const typed = (value: string): WireMember => (ref.type ? { value, type: ref.type } : { value });
    if (ref.kind === 'id') return typed(ref.value);
    if (ref.kind === 'external') {
      const x = this.external.get(ref.externalId);
      if (!x) return 'wait';
      return x.id ? typed(x.id) : { failure: x.reason ?? `member '${ref.externalId}' is unknown` };
    }
    const t = ref.target;
    // An id, once known, names the resource even while a PUT of it is under way.
    if (t.id) return typed(t.id);
    if (t.phase === 'failed' || t.phase === 'skipped') return { failure: `member '${t.item.externalId}' could not be imported (line ${t.item.line})` };
    if (inBatch?.has(t)) return typed(`bulkId:${t.bulkId}`);
    return 'wait';
  }

  /** Late members whose resource now exists join the PATCH queue; failed ones are noted. */
  private resolveDeferred(e: Entry): void {
    for (const ref of [...e.deferred]) {
      const r = this.resolveRef(ref, undefined);
      if (r === 'wait') continue;
      e.deferred.delete(ref);
      if ('failure' in r) e.memberFailures.push(r.failure);
      else e.pendingAdds.push(r);
    }
  }

  /** A written group with nothing left to add is finished. True when it left the members phase. */
  private settle(e: Entry): boolean {
    if (e.phase !== 'members' || e.addsInFlight || e.pendingAdds.length || e.deferred.size) return false;
    if (e.memberFailures.length) this.fail(e, { reason: `written, but not every member could be added: ${e.memberFailures.join('; ')}` });
    else this.finish(e);
    return true;
  }

  // ---- answers --------------------------------------------------------------------------------

  /**
   * The answers to a batch, one per operation in order; `undefined` where the outcome is unknown
   * (not processed, or the request failed without an answer).
   */
  applyResults(batch: Batch, results: readonly (OpResult | undefined)[]): void {
    batch.ops.forEach((op, i) => {
      const r = results[i];
      if (!r) this.unknown(op, 'no answer for this operation');
      else if (r.status >= 200 && r.status < 300) this.succeeded(op, r);
      else this.rejected(op, r);
    });
  }

  /** The whole batch failed without an answer (network, 5xx): every outcome is unknown. */
  batchUnknown(batch: Batch, reason: string): void {
    for (const op of batch.ops) this.unknown(op, reason);
  }

  /** The whole batch was refused before any work (429/503 past every retry, 413, 404): nothing happened. */
  batchRefused(batch: Batch, reason: string, countAttempt = true): void {
    for (const op of batch.ops) this.retry(op, reason, countAttempt);
  }

  /** The batch's outcome cannot be learned now (an async request that could not be followed). */
  batchFailed(batch: Batch, reason: string): void {
    for (const op of batch.ops) this.fail(op.entry, { reason });
  }

  private succeeded(op: PlannedOp, r: OpResult): void {
    const e = op.entry;
    if (op.kind === 'members') {
      e.addsInFlight = false;
      this.settle(e);
      return;
    }
    if (op.kind === 'create') {
      if (!r.id) return this.unknown(op, `the server answered ${r.status} without a location`);
      e.id = r.id;
      e.outcome = 'created';
    } else {
      e.outcome ??= 'updated';
    }
    e.exists = true;
    e.uncertain = undefined;
    for (const m of op.members) e.pendingAdds.push(m);
    this.resolveDeferred(e);
    if (e.pendingAdds.length || e.deferred.size) {
      e.phase = 'members';
      this.changed.push(e);
    } else if (e.memberFailures.length) {
      e.phase = 'members';
      this.settle(e);
    } else this.finish(e);
  }

  private rejected(op: PlannedOp, r: OpResult): void {
    const e = op.entry;
    const why = `${r.status}${r.scimType ? ` ${r.scimType}` : ''}: ${r.detail ?? 'no detail'}`;
    if (r.status === 424) return this.retry(op, `a dependency failed (${why})`, true);
    if (isTransient(r.status)) return isThrottle(r.status) ? this.retry(op, why, true) : this.unknown(op, why);
    const failure: Failure = { status: r.status, scimType: r.scimType, reason: r.detail ?? `HTTP ${r.status}` };
    if (op.kind === 'create' && r.status === 409 && this.lookups) {
      // RFC 7644 §3.3: 409 uniqueness. Maybe it is ours from before: look it up by externalId.
      e.conflict = failure;
      return this.toLookup(e);
    }
    if (op.kind === 'replace' && r.status === 404) {
      // Deleted between the lookup and the write: create it.
      e.exists = false;
      e.id = undefined;
      e.outcome = undefined;
      return this.retry(op, why, true);
    }
    if (op.kind === 'members') e.addsInFlight = false;
    this.fail(e, failure);
  }

  /** No answer: a POST may have been applied, so it is looked up before it is sent again. */
  private unknown(op: PlannedOp, reason: string): void {
    if (op.kind === 'create' && this.lookups) {
      const e = op.entry;
      if (this.giveUp(e, reason)) return;
      e.uncertain = 'POST';
      if (this.stopping) return this.skip(e);
      this.toLookup(e);
      return;
    }
    this.retry(op, reason, true);
  }

  /** Send again later (PUT and PATCH add are idempotent; a refused request did nothing). */
  private retry(op: PlannedOp, reason: string, countAttempt: boolean): void {
    const e = op.entry;
    if (op.kind === 'members') {
      e.addsInFlight = false;
      e.pendingAdds = op.members.concat(e.pendingAdds);
    } else {
      e.phase = 'write';
    }
    if (countAttempt && this.giveUp(e, reason)) return;
    if (this.stopping && op.kind !== 'members') this.skip(e);
  }

  private giveUp(e: Entry, reason: string): boolean {
    if (++e.attempts < this.opts.maxAttempts) return false;
    this.fail(e, { reason: `gave up after ${e.attempts} attempts: ${reason}` });
    return true;
  }

  private toLookup(e: Entry): void {
    e.phase = 'lookup';
    this.lookupQueue[e.item.type].push(e);
  }

  private awaitingLookup(e: Entry): boolean {
    return e.phase === 'lookup' && !e.lookingUp;
  }

  private finish(e: Entry): void {
    e.phase = 'done';
    e.outcome ??= 'created';
    this.changed.push(e);
  }

  private fail(e: Entry, f: Failure): void {
    if (e.phase === 'failed') return;
    e.phase = 'failed';
    e.failure = f;
    e.addsInFlight = false;
    this.failedCount++;
    this.changed.push(e);
    this.checkStop();
  }

  private skip(e: Entry): void {
    e.phase = 'skipped';
  }

  private checkStop(): void {
    if (this.opts.failOnErrors !== undefined && this.failedCount >= this.opts.failOnErrors) this.stop();
  }

  // ---- whole import ---------------------------------------------------------------------------

  /** Start nothing new; what is not under way ends as skipped. */
  stop(): void {
    this.stopping = true;
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Entries whose journal-worthy state changed since the last call (done, written, failed). */
  takeChanges(): Entry[] {
    const out = this.changed;
    this.changed = [];
    return out;
  }

  /**
   * Call when nothing is under way and nothing more can start: groups with nothing left to add
   * finish; whatever else is open ends as skipped (stopping) or failed (unresolvable).
   */
  settleIdle(): void {
    for (const e of this.order) {
      if (e.phase === 'members') {
        this.resolveDeferred(e);
        this.settle(e);
      }
    }
    for (const e of this.entries) {
      if (TERMINAL.has(e.phase)) continue;
      if (this.stopping) this.skip(e);
      // Nothing runs and nothing can start: a reference that can never resolve.
      else this.fail(e, { reason: 'its references could not be resolved' });
    }
  }

  get finished(): boolean {
    return this.entries.every((e) => TERMINAL.has(e.phase));
  }

  get failures(): number {
    return this.failedCount;
  }

  entryOf(externalId: string): Entry | undefined {
    return this.byExternalId.get(externalId);
  }

  /** How many items are in each phase, for progress. */
  counts(): Record<Phase, number> & { created: number; updated: number } {
    const c = { lookup: 0, write: 0, sending: 0, members: 0, done: 0, failed: 0, skipped: 0, created: 0, updated: 0 };
    for (const e of this.entries) {
      c[e.phase]++;
      if (e.phase === 'done') c[e.outcome ?? 'created']++;
    }
    return c;
  }
}
