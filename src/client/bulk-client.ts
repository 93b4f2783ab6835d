import { AppError } from '../core/errors.js';
import { planDependencies } from './bulk/dependencies.js';
import { ImportState, type Batch, type LookupTask, type PlannedOp } from './bulk/import-state.js';
import { endpointOf, type ParsedImport } from './bulk/items.js';
import { externalIdFilter, listingPays, lookupChunkSize } from './bulk/lookup-filter.js';
import { idFromLocation } from './bulk/operations.js';
import { buildReport, type ImportReport } from './bulk/report.js';
import { bulkRequestBody } from './bulk/request-size.js';
import { matchBulkResponse, type OpResult } from './bulk/results.js';
import { DEFAULT_RETRY, isThrottle, isTransient, retryAfterMs } from './bulk/retry.js';
import { followAsync } from './bulk-async.js';
import { readImportFile, type ImportFormat } from './bulk-input.js';
import { ImportJournal, type JournalState } from './bulk-journal.js';
import { errorDetail, NoAnswerError, ScimHttp, type HttpAnswer } from './scim-http.js';
import { isObject } from '../core/is-object.js';

export interface BulkClientOptions {
  /** SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2. */
  readonly url: string;
  readonly token?: string | undefined;
  /** Requests in flight at once (Bulk requests, lookups, or single requests). Default 4. */
  readonly concurrency?: number | undefined;
  /** Send `Prefer: respond-async` and follow each request's Location to its end (RFC 9967 §2.5). */
  readonly async?: boolean | undefined;
  /** Stop starting work once this many items failed; unset: go through everything. */
  readonly failOnErrors?: number | undefined;
  /** Journal path for resuming; unset: no journal (the CLI defaults to `<FILE>.journal.ndjson`). */
  readonly journal?: string | undefined;
  /** Attempts per request and per item. Default 6. */
  readonly maxAttempts?: number | undefined;
  /** Per HTTP request. Default 300 s. */
  readonly timeoutMs?: number | undefined;
  /** How long one asynchronous request may take to finish. Default 1 hour. */
  readonly asyncTimeoutMs?: number | undefined;
  /** Caps below the server's advertised bulk limits. */
  readonly maxOperations?: number | undefined;
  readonly maxPayloadSize?: number | undefined;
  /** Body budget of one request when the server has no Bulk. Default 512 KiB. */
  readonly singleRequestBytes?: number | undefined;
  readonly onProgress?: ((p: ImportProgress) => void) | undefined;
  /** Aborting stops new work; what is in flight finishes and the rest is reported as skipped. */
  readonly signal?: AbortSignal | undefined;
  readonly fetch?: typeof fetch | undefined;
}

/** What the target says it can do (RFC 7643 §5 ServiceProviderConfig). */
export interface ServerCapabilities {
  readonly bulk: { readonly maxOperations: number; readonly maxPayloadSize: number } | undefined;
  readonly filter: boolean;
  readonly patch: boolean;
  /** SPC filter.maxResults: the largest page a query returns. */
  readonly maxResults: number;
}

export interface ImportProgress {
  readonly total: number;
  /**
   * Items with a final outcome (created, updated, failed). Skipped items are not counted: they
   * are still to do (a rerun does them), so a stopped import does not end at 100 %.
   */
  readonly settled: number;
  readonly created: number;
  readonly updated: number;
  readonly failed: number;
  readonly inFlight: number;
  readonly requests: number;
  /** Requests sent again (throttled, transient failure, no answer): a slow import says why. */
  readonly retries: number;
  readonly stage: 'checking' | 'writing' | 'finished';
}

type Task = { kind: 'lookup'; lookup: LookupTask } | { kind: 'batch'; batch: Batch };


/**
 * Imports users and groups into any RFC 7644 server: `POST /Bulk` within the server's
 * maxOperations and maxPayloadSize when it has Bulk, one request per resource when it does not.
 * References are ordered and rewritten to real ids across requests, several requests run at
 * once, throttling and transient failures are retried, and a journal makes a rerun after a
 * crash finish the job without duplicates. See docs/cli.md, "scimcast bulk import".
 *
 * ```ts
 * const report = await new BulkClient({ url, token, journal: 'people.csv.journal.ndjson' }).importFile('people.csv');
 * ```
 */
export class BulkClient {
  private readonly opts: BulkClientOptions;
  private readonly http: ScimHttp;
  private caps: ServerCapabilities | undefined;
  private mode: 'bulk' | 'single' = 'bulk';
  private shrink: { maxOperations: number; maxBytes: number } | undefined;
  private lookupTerms: number | undefined;
  private fatal: unknown;
  private batches = 0;
  private readonly txns: string[] = [];
  private readonly warnings: string[] = [];

  constructor(opts: BulkClientOptions) {
    if (!opts.url) throw new AppError('ERR_CONFIG_INVALID', 'BulkClient: url is required');
    this.opts = opts;
    const maxAttempts = opts.maxAttempts ?? DEFAULT_RETRY.maxAttempts;
    this.http = new ScimHttp({ baseUrl: opts.url, token: opts.token, timeoutMs: opts.timeoutMs, fetch: opts.fetch, signal: undefined, retry: { ...DEFAULT_RETRY, maxAttempts } });
  }

  /** Read the target's ServiceProviderConfig (RFC 7643 §5); a server without one gets single requests. */
  async discover(): Promise<ServerCapabilities> {
    if (this.caps) return this.caps;
    const a = await this.http.get('/ServiceProviderConfig');
    if (a.status === 401 || a.status === 403) throw new AppError('ERR_SCIM_CLIENT', `ServiceProviderConfig: ${a.status} ${errorDetail(a).detail} (check --token / SCIMCAST_TOKEN)`);
    // Still throttled or failing after every retry: that says nothing about what the server can do,
    // and guessing "no Bulk" would run the whole import one resource per request.
    if (isTransient(a.status)) throw new AppError('ERR_SCIM_CLIENT', `ServiceProviderConfig: ${a.status} ${errorDetail(a).detail} (the server is unavailable; try again later)`);
    const spc = a.status === 200 && isObject(a.body) ? a.body : {};
    const bulk = isObject(spc.bulk) ? spc.bulk : {};
    const maxOperations = Number(bulk.maxOperations);
    const maxPayloadSize = Number(bulk.maxPayloadSize);
    const supported = (v: unknown) => isObject(v) && v.supported === true;
    this.caps = {
      bulk: bulk.supported === true && maxOperations > 0 && maxPayloadSize > 0 ? { maxOperations, maxPayloadSize } : undefined,
      // Without a document, assume the RFC 7644 basics (filter and PATCH are widely implemented).
      filter: a.status === 200 ? supported(spc.filter) : true,
      patch: a.status === 200 ? supported(spc.patch) : true,
      maxResults: isObject(spc.filter) && Number(spc.filter.maxResults) > 0 ? Number(spc.filter.maxResults) : 100,
    };
    return this.caps;
  }

  /** Read a CSV or NDJSON file and import it. */
  async importFile(path: string, format?: ImportFormat): Promise<ImportReport> {
    return this.import(await readImportFile(path, format));
  }

  /** Import parsed items (rows that could not be read are reported as failed). */
  async import(parsed: ParsedImport): Promise<ImportReport> {
    const started = Date.now();
    const caps = await this.discover();
    this.mode = caps.bulk ? 'bulk' : 'single';
    if (!caps.filter) this.warnings.push('the server does not support filters: items are not looked up by externalId before they are written');
    const rowErrors = new Map(parsed.errors.filter((e) => e.externalId).map((e) => [e.externalId!, e.line]));
    const state = new ImportState(parsed.items, planDependencies(parsed.items), {
      maxAttempts: this.http.retry.maxAttempts,
      failOnErrors: this.opts.failOnErrors,
      lookups: caps.filter,
      rowErrors,
    });
    const opened = this.opts.journal ? ImportJournal.open(this.opts.journal, this.http.baseUrl) : undefined;
    const journal = opened?.journal;
    const onAbort = () => state.stop();
    this.opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.opts.signal?.aborted) state.stop();
    let resumed = 0;
    try {
      if (opened) resumed = await this.resume(state, opened.state, journal!);
      state.start();
      if (caps.filter) await this.survey(state);
      await this.drive(state, journal, parsed.items.length + parsed.errors.length);
    } finally {
      this.opts.signal?.removeEventListener('abort', onAbort);
      journal?.close();
    }
    if (this.fatal) throw this.fatal;
    return buildReport(state.entries, parsed.errors, {
      mode: this.mode,
      async: this.opts.async === true,
      requests: this.http.stats.requests,
      retries: this.http.stats.retries,
      throttledMs: this.http.stats.throttledMs,
      batches: this.batches,
      txns: [...this.txns],
      journal: this.opts.journal,
      durationMs: Date.now() - started,
      resumed,
      warnings: [...this.warnings],
    });
  }

  // ---- resuming -------------------------------------------------------------------------------

  /** Apply what the journal knows; follow asynchronous requests an earlier run left unfinished. */
  private async resume(state: ImportState, j: JournalState, journal: ImportJournal): Promise<number> {
    let resumed = 0;
    for (const [x, rec] of j.items) {
      if (rec.state === 'done') resumed++;
      if (rec.state === 'failed') {
        if (rec.id) state.restore(x, { state: 'written', id: rec.id, outcome: rec.outcome });
      } else state.restore(x, { ...rec, state: rec.state });
    }
    for (const t of j.pendingTxns) {
      let results: (OpResult | undefined)[];
      try {
        results = await followAsync(this.http, t.location, t.ops.length, { timeoutMs: this.opts.asyncTimeoutMs ?? 3_600_000 });
      } catch (e) {
        // Gone (expired or never committed): lookups by externalId settle its items.
        if (e instanceof AppError && / answered 404/.test(e.message)) {
          journal.txnDone(t.txn);
          continue;
        }
        throw e;
      }
      t.ops.forEach(([x, method], i) => {
        const r = results[i];
        const e = state.entryOf(x);
        if (!e || !r || r.status < 200 || r.status >= 300 || (method !== 'POST' && method !== 'PUT')) return;
        const id = r.id ?? e.id;
        if (id) state.restore(x, { state: e.item.type === 'user' ? 'done' : 'written', id, outcome: method === 'POST' ? 'created' : e.outcome ?? 'updated' });
      });
      journal.results(state.entries.filter((e) => e.phase === 'done' && t.ops.some(([x]) => x === e.item.externalId)));
      journal.txnDone(t.txn);
      this.txns.push(t.txn);
    }
    return resumed;
  }

  // ---- scheduling -----------------------------------------------------------------------------

  /** Keep up to `concurrency` requests running until every item has an outcome. */
  private async drive(state: ImportState, journal: ImportJournal | undefined, total: number): Promise<void> {
    const concurrency = Math.max(1, this.opts.concurrency ?? 4);
    const running = new Set<Promise<void>>();
    const progress = (stage: ImportProgress['stage']) => {
      if (!this.opts.onProgress) return;
      const c = state.counts();
      this.opts.onProgress({ total, settled: c.done + c.failed + (total - state.entries.length), created: c.created, updated: c.updated, failed: state.failures, inFlight: running.size, requests: this.http.stats.requests, retries: this.http.stats.retries, stage });
    };
    let stage: ImportProgress['stage'] = 'checking';
    for (;;) {
      while (running.size < concurrency && !this.fatal) {
        const task = this.nextTask(state);
        if (!task) break;
        if (task.kind === 'batch') stage = 'writing';
        const p: Promise<void> = this.runTask(state, task, journal)
          .catch((e: unknown) => {
            this.fatal ??= e;
            state.stop();
          })
          .finally(() => {
            running.delete(p);
            journal?.results(state.takeChanges());
          });
        running.add(p);
      }
      journal?.results(state.takeChanges());
      progress(stage);
      if (running.size === 0) {
        state.settleIdle();
        journal?.results(state.takeChanges());
        break;
      }
      await Promise.race(running);
    }
    progress('finished');
  }

  private nextTask(state: ImportState): Task | undefined {
    const lookup = state.nextLookup((ids) => Math.min(this.lookupTerms ?? Infinity, lookupChunkSize(ids)));
    if (lookup) return { kind: 'lookup', lookup };
    const batch = state.nextBatch(this.limits());
    return batch ? { kind: 'batch', batch } : undefined;
  }

  private limits() {
    const caps = this.caps!;
    if (this.mode === 'single' || !caps.bulk) {
      return { maxOperations: 1, maxBytes: this.opts.singleRequestBytes ?? 512 * 1024, bulkIds: false, patch: caps.patch };
    }
    const maxOperations = Math.min(caps.bulk.maxOperations, this.opts.maxOperations ?? Infinity, this.shrink?.maxOperations ?? Infinity);
    const maxBytes = Math.min(caps.bulk.maxPayloadSize, this.opts.maxPayloadSize ?? Infinity, this.shrink?.maxBytes ?? Infinity);
    return { maxOperations, maxBytes, bulkIds: true, patch: caps.patch };
  }

  private runTask(state: ImportState, task: Task, journal: ImportJournal | undefined): Promise<void> {
    if (task.kind === 'lookup') return this.runLookup(state, task.lookup);
    this.batches++;
    return this.mode === 'bulk' ? this.runBulk(state, task.batch, journal) : this.runSingle(state, task.batch, journal);
  }

  // ---- lookups by externalId ------------------------------------------------------------------

  private async runLookup(state: ImportState, task: LookupTask): Promise<void> {
    const endpoints = task.type === 'external' ? ['/Users', '/Groups'] : [endpointOf(task.type)];
    const found = new Map<string, string[]>();
    try {
      let ids = task.externalIds;
      for (const ep of endpoints) {
        if (!ids.length) break;
        for (const [x, list] of await this.findByExternalId(ep, ids)) found.set(x, [...(found.get(x) ?? []), ...list]);
        ids = ids.filter((x) => !found.has(x));
      }
    } catch (e) {
      if (e instanceof FilterRejected) {
        this.warnings.push(`existence checks by externalId are off: ${e.message}`);
        state.disableLookups(e.message);
      }
      else if (e instanceof NoAnswerError || e instanceof LookupFailed) state.lookupFailed(task, e.message);
      else throw e;
      return;
    }
    state.applyLookup(task, found);
  }

  /**
   * Before checking items one chunk at a time, ask how many resources carry an externalId at all
   * (`externalId pr`, `count=0`). None (an import into a fresh server): nothing to check. No more
   * of them than items to check, in fewer pages than chunks: list them (listingPays). Otherwise
   * the chunked lookups go ahead.
   */
  private async survey(state: ImportState): Promise<void> {
    for (const type of ['user', 'group'] as const) {
      const waiting = state.awaitingLookups(type);
      if (!waiting) continue;
      const endpoint = endpointOf(type);
      const pageSize = this.caps!.maxResults;
      try {
        const count = await this.http.get(`${endpoint}?${new URLSearchParams({ filter: 'externalId pr', count: '0' })}`);
        this.checkAuth(count);
        const total = isObject(count.body) ? Number(count.body.totalResults) : NaN;
        if (count.status !== 200 || !Number.isSafeInteger(total)) continue;
        if (total > 0 && !listingPays(total, waiting, pageSize)) continue;
        const found = new Map<string, string[]>();
        for (let startIndex = 1; startIndex <= total; ) {
          const q = new URLSearchParams({ filter: 'externalId pr', attributes: 'externalId', startIndex: String(startIndex), count: String(pageSize) });
          const page = await this.http.get(`${endpoint}?${q}`);
          this.checkAuth(page);
          const rows = page.status === 200 && isObject(page.body) && Array.isArray(page.body.Resources) ? page.body.Resources.filter(isObject) : undefined;
          if (!rows) throw new LookupFailed(`listing ${endpoint} answered ${page.status}`);
          if (!rows.length) break;
          for (const r of rows) if (typeof r.id === 'string' && typeof r.externalId === 'string') found.set(r.externalId, [...(found.get(r.externalId) ?? []), r.id]);
          startIndex += rows.length;
        }
        const task = state.takeLookups(type);
        if (task) state.applyLookup(task, found);
      } catch (e) {
        // The chunked lookups still run; they decide.
        if (!(e instanceof NoAnswerError || e instanceof LookupFailed)) throw e;
      }
    }
  }

  /** externalId → ids on one endpoint, with `or` filters; one term at a time if `or` is refused. */
  private async findByExternalId(endpoint: string, ids: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const a = await this.search(endpoint, ids);
    if (!Array.isArray(a)) {
      if (ids.length === 1) throw new FilterRejected(`GET ${endpoint}?filter=externalId eq … answered ${a.rejected}`);
      this.lookupTerms = 1;
      for (const x of ids) for (const [k, v] of await this.findByExternalId(endpoint, [x])) out.set(k, v);
      return out;
    }
    for (const r of a) {
      // externalId is caseExact (RFC 7643 §3.1): a server comparing loosely does not decide for us.
      if (typeof r.id !== 'string' || typeof r.externalId !== 'string' || !ids.includes(r.externalId)) continue;
      out.set(r.externalId, [...(out.get(r.externalId) ?? []), r.id]);
    }
    return out;
  }

  private async search(endpoint: string, ids: readonly string[]): Promise<Record<string, unknown>[] | { rejected: string }> {
    const filter = externalIdFilter(ids);
    const resources: Record<string, unknown>[] = [];
    for (let startIndex = 1; ; ) {
      const q = new URLSearchParams({ filter, attributes: 'externalId', startIndex: String(startIndex), count: String(Math.max(ids.length * 2, 10)) });
      const a = await this.http.get(`${endpoint}?${q}`);
      this.checkAuth(a);
      if (a.status === 400 || a.status === 501) return { rejected: `${a.status}: ${errorDetail(a).detail}` };
      if (a.status !== 200 || !isObject(a.body)) throw new LookupFailed(`GET ${endpoint}?filter=… answered ${a.status}: ${errorDetail(a).detail}`);
      const page = Array.isArray(a.body.Resources) ? a.body.Resources.filter(isObject) : [];
      for (const r of page) resources.push(r);
      const total = Number(a.body.totalResults);
      if (!page.length || !Number.isFinite(total) || resources.length >= total) return resources;
      startIndex += page.length;
    }
  }

  /** 401 and 403 would fail every request alike: stop the import with the server's reason. */
  private checkAuth(a: HttpAnswer): void {
    if (a.status === 401) throw new AppError('ERR_SCIM_CLIENT', `the server refused the token (401): ${errorDetail(a).detail}`);
    if (a.status === 403) throw new AppError('ERR_SCIM_CLIENT', `the token may not do this (403): ${errorDetail(a).detail}`);
  }

  // ---- writes ---------------------------------------------------------------------------------

  private sentRecords(batch: Batch): [string, 'POST' | 'PUT'][] {
    return batch.ops.filter((o) => o.kind !== 'members').map((o) => [o.entry.item.externalId, o.wire.method === 'PUT' ? 'PUT' : 'POST']);
  }

  private asyncHeaders(): Record<string, string> {
    return this.opts.async ? { prefer: 'respond-async' } : {};
  }

  /** One Bulk request (RFC 7644 §3.7), retried in place while the server throttles. */
  private async runBulk(state: ImportState, batch: Batch, journal: ImportJournal | undefined): Promise<void> {
    journal?.sent(this.sentRecords(batch));
    const wires = batch.ops.map((o) => o.wire);
    const body = bulkRequestBody(wires, batch.failOnErrors);
    for (let attempt = 1; ; attempt++) {
      let a: HttpAnswer;
      try {
        a = await this.http.once('POST', '/Bulk', { body, headers: this.asyncHeaders(), retry: attempt > 1 });
      } catch (e) {
        if (!(e instanceof NoAnswerError)) throw e;
        return state.batchUnknown(batch, e.message);
      }
      this.checkAuth(a);
      const why = `${a.status}: ${errorDetail(a).detail}`;
      if (a.status === 200) return state.applyResults(batch, matchBulkResponse(wires, a.body));
      if (a.status === 202) return this.completeAsync(state, batch, a, journal, wires.length);
      if (isThrottle(a.status)) {
        if (attempt < this.http.retry.maxAttempts && !state.stopped) continue;
        return state.batchRefused(batch, `throttled (${why})`);
      }
      if (a.status === 404 || a.status === 405 || a.status === 501) {
        // No Bulk after all (RFC 7644 §3.7 is optional): one request per operation from now on.
        this.mode = 'single';
        return state.batchRefused(batch, why, false);
      }
      if (a.status === 413) {
        // The server measures differently from what it advertised: smaller requests from now on.
        this.shrink = { maxOperations: Math.max(1, Math.floor(batch.ops.length / 2)), maxBytes: Math.max(1024, Math.floor(batch.bytes * 0.75)) };
        return state.batchRefused(batch, why, batch.ops.length === 1);
      }
      if (isTransient(a.status)) return state.batchUnknown(batch, why);
      const { scimType, detail } = errorDetail(a);
      return state.applyResults(batch, wires.map(() => ({ status: a.status, scimType, detail })));
    }
  }

  /** A 202: journal the Set-Txn, then follow the Location until every operation has an outcome. */
  private async completeAsync(state: ImportState, batch: Batch, a: HttpAnswer, journal: ImportJournal | undefined, count: number): Promise<void> {
    const txn = a.headers.get('set-txn') ?? '';
    const location = a.headers.get('location');
    if (!location) return state.batchFailed(batch, `202 Accepted${txn ? ` (Set-Txn ${txn})` : ''} without a Location to follow`);
    journal?.txn(txn || location, location, batch.ops.map((o) => [o.entry.item.externalId, o.wire.method]));
    let results: (OpResult | undefined)[];
    try {
      results = await followAsync(this.http, location, count, {
        timeoutMs: this.opts.asyncTimeoutMs ?? 3_600_000,
        firstWaitMs: retryAfterMs(a.headers.get('retry-after'), Date.now()),
      });
    } catch (e) {
      if (!(e instanceof AppError || e instanceof NoAnswerError)) throw e;
      // Still pending or unknown: not retried now (that could apply it twice). A rerun resumes it.
      return state.batchFailed(batch, `asynchronous request ${txn}: ${e.message}; run the import again to resume`);
    }
    state.applyResults(batch, results);
    journal?.results(state.takeChanges());
    journal?.txnDone(txn || location);
    this.txns.push(txn || location);
  }

  /** One operation as its own request (the server has no Bulk). */
  private async runSingle(state: ImportState, batch: Batch, journal: ImportJournal | undefined): Promise<void> {
    journal?.sent(this.sentRecords(batch));
    const op: PlannedOp = batch.ops[0]!;
    const body = JSON.stringify(op.wire.data);
    for (let attempt = 1; ; attempt++) {
      let a: HttpAnswer;
      try {
        a = await this.http.once(op.wire.method, op.wire.path, { body, headers: this.asyncHeaders(), retry: attempt > 1 });
      } catch (e) {
        if (!(e instanceof NoAnswerError)) throw e;
        return state.batchUnknown(batch, e.message);
      }
      this.checkAuth(a);
      if (a.status === 202 && this.opts.async) return this.completeAsync(state, batch, a, journal, 1);
      if (isThrottle(a.status) && attempt < this.http.retry.maxAttempts && !state.stopped) continue;
      return state.applyResults(batch, [singleResult(a)]);
    }
  }
}

/** A single request's answer in bulk-operation form. */
function singleResult(a: HttpAnswer): OpResult {
  if (a.status >= 200 && a.status < 300) {
    const b = isObject(a.body) ? a.body : {};
    const meta = isObject(b.meta) ? b.meta : {};
    const location = a.headers.get('location') ?? (typeof meta.location === 'string' ? meta.location : undefined);
    return { status: a.status, location, id: typeof b.id === 'string' ? b.id : idFromLocation(location ?? undefined) };
  }
  return { status: a.status, ...errorDetail(a) };
}

class FilterRejected extends Error {}
class LookupFailed extends Error {}
