import type { Entry } from './import-state.js';
import type { ItemError, ItemType } from './items.js';

/** One item that did not make it, with the server's answer when there was one. */
export interface ImportFailure {
  line: number;
  type?: ItemType | undefined;
  externalId?: string | undefined;
  status?: number | undefined;
  scimType?: string | undefined;
  reason: string;
}

export interface TypeCounts {
  created: number;
  updated: number;
  failed: number;
}

/**
 * The outcome of an import (`--json` has numeric `created`, `updated`, `failed`, for scripts).
 * It covers the whole file, including items an earlier run of the same journal finished.
 */
export interface ImportReport {
  /** Items created by this import (a resumed run counts the earlier runs' creations too). */
  created: number;
  /** Items whose externalId was already on the server: replaced with the row (PUT). */
  updated: number;
  /** Items that failed, including rows that could not be read. */
  failed: number;
  /** Items never attempted because the import stopped (`--fail-on-errors`, interrupt). */
  skipped: number;
  /** Rows and lines read. */
  total: number;
  users: TypeCounts;
  groups: TypeCounts;
  /** Items an earlier run had finished (taken from the journal). */
  resumed: number;
  failures: ImportFailure[];
  /** `bulk` (RFC 7644 §3.7) or `single` (one request per operation: the server has no Bulk). */
  mode: 'bulk' | 'single';
  async: boolean;
  /** HTTP requests sent, retries among them, and how long Retry-After made the client wait. */
  requests: number;
  retries: number;
  throttledMs: number;
  /** Write requests (Bulk requests, or single requests in `single` mode). */
  batches: number;
  /** Set-Txn of each asynchronous request, all of them followed to completion. */
  txns: string[];
  journal: string | undefined;
  durationMs: number;
  /** Things the client had to do without (no existence checks, …). */
  warnings: string[];
}

export type ReportStats = Pick<ImportReport, 'mode' | 'async' | 'requests' | 'retries' | 'throttledMs' | 'batches' | 'txns' | 'journal' | 'durationMs' | 'resumed' | 'warnings'>;

export function buildReport(entries: readonly Entry[], rowErrors: readonly ItemError[], stats: ReportStats): ImportReport {
  const users: TypeCounts = { created: 0, updated: 0, failed: 0 };
  const groups: TypeCounts = { created: 0, updated: 0, failed: 0 };
  const failures: ImportFailure[] = [];
  let skipped = 0;
  for (const err of rowErrors) {
    failures.push({ line: err.line, type: err.type, externalId: err.externalId, reason: err.reason });
    if (err.type === 'group') groups.failed++;
    else users.failed++;
  }
  for (const e of entries) {
    const t = e.item.type === 'user' ? users : groups;
    if (e.phase === 'done') t[e.outcome ?? 'created']++;
    else if (e.phase === 'failed') {
      t.failed++;
      failures.push({ line: e.item.line, type: e.item.type, externalId: e.item.externalId, status: e.failure?.status, scimType: e.failure?.scimType, reason: e.failure?.reason ?? 'failed' });
    } else skipped++;
  }
  failures.sort((a, b) => a.line - b.line);
  return {
    created: users.created + groups.created,
    updated: users.updated + groups.updated,
    failed: users.failed + groups.failed,
    skipped,
    total: entries.length + rowErrors.length,
    users,
    groups,
    failures,
    ...stats,
  };
}

const n = (x: number) => x.toLocaleString('en-US');

/** The report for a person: counts, then each failure with its line (the first 50). */
export function formatReport(r: ImportReport, source: string, target: string): string {
  const lines = [
    `Imported ${source} into ${target}: ${r.mode === 'bulk' ? 'Bulk' : 'single-resource'} requests${r.async ? ', asynchronous' : ''}`,
    `  created  ${n(r.created).padStart(8)}   (users ${n(r.users.created)}, groups ${n(r.groups.created)})`,
    `  updated  ${n(r.updated).padStart(8)}   (users ${n(r.users.updated)}, groups ${n(r.groups.updated)})`,
    `  failed   ${n(r.failed).padStart(8)}   (users ${n(r.users.failed)}, groups ${n(r.groups.failed)})`,
  ];
  if (r.skipped) lines.push(`  skipped  ${n(r.skipped).padStart(8)}   (not attempted: the import stopped)`);
  const extra = [`${n(r.requests)} requests`, `${n(r.batches)} writes`];
  if (r.retries) extra.push(`${n(r.retries)} retried`);
  if (r.throttledMs) extra.push(`${(r.throttledMs / 1000).toFixed(1)} s waiting on Retry-After`);
  if (r.txns.length) extra.push(`${n(r.txns.length)} async requests completed`);
  if (r.resumed) extra.push(`${n(r.resumed)} done by an earlier run`);
  lines.push(`  ${extra.join(', ')}; ${(r.durationMs / 1000).toFixed(1)} s`);
  if (r.journal) lines.push(`  journal: ${r.journal}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  if (r.failures.length) {
    lines.push('', 'Failures:');
    for (const f of r.failures.slice(0, 50)) {
      const who = [f.type, f.externalId].filter(Boolean).join(' ');
      const code = [f.status, f.scimType].filter((x) => x !== undefined).join(' ');
      lines.push(`  line ${f.line}${who ? ` ${who}` : ''}: ${code ? `${code}: ` : ''}${f.reason}`);
    }
    if (r.failures.length > 50) lines.push(`  … and ${n(r.failures.length - 50)} more (--json lists them all)`);
  }
  return `${lines.join('\n')}\n`;
}
