import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { AppError } from '../core/errors.js';
import type { Entry, Outcome } from './bulk/import-state.js';

/**
 * The import journal: an append-only NDJSON file, one record per line, flushed to disk (fsync)
 * before the client moves on, so a crash at any point leaves a journal that says what is known:
 *
 * - `{"v":1,"url":…}`            the SCIM base the ids belong to (first line);
 * - `{"sent":[[x,"POST"],…]}`    written before a request leaves: these writes may have happened;
 * - `{"x":…,"s":"done","id":…,"o":"created"|"updated"}`  the item is finished;
 * - `{"x":…,"s":"written",…}`    a group exists but some members were still to be added;
 * - `{"x":…,"s":"failed","r":…}` the item failed (a rerun tries it again);
 * - `{"txn":…,"loc":…,"ops":[[x,m],…]}` / `{"txnDone":…}`  an asynchronous request and its end.
 *
 * A rerun skips finished items, looks up the ones "sent" without an answer by externalId before
 * writing them again, and follows unfinished asynchronous requests first. A torn last line (the
 * crash came mid-write) is ignored.
 */
export interface JournalItem {
  state: 'done' | 'written' | 'sent' | 'failed';
  id?: string | undefined;
  outcome?: Outcome | undefined;
  method?: 'POST' | 'PUT' | undefined;
}

export interface JournalTxn {
  txn: string;
  location: string;
  ops: [string, string][];
}

export interface JournalState {
  readonly items: Map<string, JournalItem>;
  readonly pendingTxns: JournalTxn[];
  readonly existed: boolean;
}

type Line = {
  v?: number;
  url?: string;
  sent?: [string, string][];
  x?: string;
  s?: string;
  id?: string;
  o?: Outcome;
  txn?: string;
  loc?: string;
  ops?: [string, string][];
  txnDone?: string;
};

export function replayJournal(text: string, url: string, path: string): JournalState {
  const items = new Map<string, JournalItem>();
  const txns = new Map<string, JournalTxn>();
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    if (!raw.trim()) continue;
    let rec: Line;
    try {
      rec = JSON.parse(raw) as Line;
    } catch {
      if (i >= lines.length - 2) continue; // the torn last line of a crash
      throw new AppError('ERR_IMPORT_JOURNAL', `${path} line ${i + 1} is not JSON; is it an import journal?`);
    }
    if (rec.v !== undefined) {
      if (rec.url !== url) throw new AppError('ERR_IMPORT_JOURNAL', `${path} is the journal of an import into ${rec.url}, not ${url}; pass --journal with another path`);
    } else if (rec.sent) {
      for (const [x, m] of rec.sent) {
        const prev = items.get(x);
        // A group already written keeps its id: its PUT or PATCH repeats safely.
        if (prev?.state === 'written') continue;
        items.set(x, { state: 'sent', method: m === 'PUT' ? 'PUT' : 'POST', id: prev?.id, outcome: prev?.outcome });
      }
    } else if (rec.x !== undefined && (rec.s === 'done' || rec.s === 'written')) {
      items.set(rec.x, { state: rec.s, id: rec.id, outcome: rec.o });
    } else if (rec.x !== undefined && rec.s === 'failed') {
      // A group that exists but lacks members failed; it keeps its id for the rerun.
      const prev = items.get(rec.x);
      items.set(rec.x, { state: 'failed', id: prev?.state === 'written' ? prev.id : undefined, outcome: prev?.outcome });
    } else if (rec.txn && rec.loc && rec.ops) {
      txns.set(rec.txn, { txn: rec.txn, location: rec.loc, ops: rec.ops });
    } else if (rec.txnDone) {
      txns.delete(rec.txnDone);
    }
  }
  return { items, pendingTxns: [...txns.values()], existed: text.length > 0 };
}

export class ImportJournal {
  readonly path: string;
  private fd: number;
  private readonly lockPath: string;

  private constructor(path: string, fd: number, lockPath: string) {
    this.path = path;
    this.fd = fd;
    this.lockPath = lockPath;
  }

  /**
   * Open (or create) the journal of an import into `url`, and what it already knows. A lock file
   * beside it keeps two runs from sharing one journal; a lock left by a dead process is taken over.
   */
  static open(path: string, url: string): { journal: ImportJournal; state: JournalState } {
    const lockPath = `${path}.lock`;
    takeLock(lockPath);
    try {
      const bytes = existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
      const state = replayJournal(bytes.toString('utf8'), url, path);
      // Cut a torn last line (a crash mid-write) so the next record starts on a line of its own.
      const end = bytes.lastIndexOf(0x0a) + 1;
      if (end < bytes.length) truncateSync(path, end);
      const fd = openSync(path, 'a');
      const journal = new ImportJournal(path, fd, lockPath);
      if (!state.existed) journal.append([{ v: 1, url, at: new Date().toISOString() }]);
      return { journal, state };
    } catch (e) {
      releaseLock(lockPath);
      throw e;
    }
  }

  private append(records: unknown[]): void {
    writeSync(this.fd, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
    fsyncSync(this.fd);
  }

  /** Before a request leaves: these creations and replacements may happen from now on. */
  sent(ops: [string, 'POST' | 'PUT'][]): void {
    if (ops.length) this.append([{ sent: ops }]);
  }

  /** Items whose state changed (after an answer). */
  results(entries: readonly Entry[]): void {
    const recs = entries.flatMap((e): Record<string, unknown>[] => {
      const x = e.item.externalId;
      if (e.phase === 'done') return [{ x, s: 'done', id: e.id, o: e.outcome }];
      if (e.phase === 'members') return [{ x, s: 'written', id: e.id, o: e.outcome }];
      if (e.phase === 'failed') return [{ x, s: 'failed', r: e.failure?.reason }];
      return [];
    });
    if (recs.length) this.append(recs);
  }

  /** An asynchronous request was accepted (RFC 9967 §2.5.1: 202 with Set-Txn and Location). */
  txn(txn: string, location: string, ops: [string, string][]): void {
    this.append([{ txn, loc: location, ops }]);
  }

  txnDone(txn: string): void {
    this.append([{ txnDone: txn }]);
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    releaseLock(this.lockPath);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function takeLock(lockPath: string): void {
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new AppError('ERR_IMPORT_JOURNAL', `${lockPath.slice(0, -5)} is in use by process ${pid} (another import of the same file?)`);
      }
      unlinkSync(lockPath);
    }
  }
  throw new AppError('ERR_IMPORT_JOURNAL', `could not lock ${lockPath}`);
}

function releaseLock(lockPath: string): void {
  try {
    unlinkSync(lockPath);
  } catch {
    // already gone
  }
}
