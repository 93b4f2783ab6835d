import { existsSync, readFileSync } from 'node:fs';

/**
 * PostgreSQL's auto_explain, for a bench's embedded server: every statement slower than `ms` is
 * logged with the plan it ran and each node's actual rows. A plan that reads a whole table where
 * it should read a few rows by key shows up here, however the statement was prepared.
 * `logging_collector` writes the log into `dir`, outside the data directory the bench removes.
 * Parameter values are left out of the log: they carry request bodies, passwords among them.
 */
export function autoExplainConf(ms: number, dir: string): string[] {
  return [
    `auto_explain.log_min_duration = '${ms}ms'`,
    'auto_explain.log_analyze = on',
    'auto_explain.log_buffers = on',
    'auto_explain.log_parameter_max_length = 0',
    'logging_collector = on',
    `log_directory = '${dir}'`,
    `log_filename = 'postgres.log'`,
  ];
}

/** One statement text (its first line, shortened) and what its slow runs had in common. */
export interface SlowStatement {
  query: string;
  runs: number;
  totalMs: number;
  maxMs: number;
  /** Tables read by a sequential scan in those runs, with the rows each scan threw away. */
  seqScans: Map<string, { scans: number; rowsRemoved: number }>;
}

/** The statement's text, up to its parameters or its plan's first node, on one line. */
function queryText(entry: string): string {
  const lines = entry.slice(entry.indexOf('Query Text:') + 'Query Text:'.length).split('\n');
  const end = lines.findIndex((l) => /Query Parameters:|\(cost=/.test(l));
  return (end < 0 ? lines : lines.slice(0, end)).join(' ').replace(/\s+/g, ' ').trim().slice(0, 120);
}

/** The logged slow statements, by total time. */
export function slowStatements(dir: string): SlowStatement[] {
  const path = `${dir}/postgres.log`;
  if (!existsSync(path)) return [];
  const byQuery = new Map<string, SlowStatement>();
  for (const entry of readFileSync(path, 'utf8').split(/\n(?=\S+ \S+ \S+ \[\d+\] LOG: {2}duration:)/)) {
    const d = /duration: ([0-9.]+) ms {2}plan:/.exec(entry);
    if (!d) continue;
    const query = queryText(entry);
    const s = byQuery.get(query) ?? { query, runs: 0, totalMs: 0, maxMs: 0, seqScans: new Map() };
    const ms = Number(d[1]);
    s.runs++;
    s.totalMs += ms;
    s.maxMs = Math.max(s.maxMs, ms);
    // A node's "Rows Removed by Filter" follows it before the next node's arrow.
    for (const m of entry.matchAll(/Seq Scan on (\w+)[^\n]*(?:\n(?![^\n]*->)[^\n]*)*/g)) {
      const removed = Number(/Rows Removed by Filter: (\d+)/.exec(m[0])?.[1] ?? 0);
      const t = s.seqScans.get(m[1]!) ?? { scans: 0, rowsRemoved: 0 };
      t.scans++;
      t.rowsRemoved += removed;
      s.seqScans.set(m[1]!, t);
    }
    byQuery.set(query, s);
  }
  return [...byQuery.values()].sort((a, b) => b.totalMs - a.totalMs);
}

/** The report's lines: each slow statement, and the sequential scans in its plans. */
export function slowStatementLines(list: readonly SlowStatement[], limit = 12): string[] {
  return list.slice(0, limit).flatMap((s) => [
    `${String(s.runs).padStart(6)} runs ${s.totalMs.toFixed(0).padStart(7)} ms total ${s.maxMs.toFixed(1).padStart(7)} ms max  ${s.query}`,
    ...[...s.seqScans].map(([table, t]) => `         sequential scan of ${table}: ${t.scans} times, ${Math.round(t.rowsRemoved / t.scans)} rows thrown away per scan`),
  ]);
}
