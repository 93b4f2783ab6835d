import { cpus, loadavg, totalmem } from 'node:os';
import pg from 'pg';

/** What BENCHMARKS.md records beside each run: the machine and how busy it was. */
export interface Machine {
  date: string;
  cores: number;
  cpu: string;
  memGiB: number;
  node: string;
  postgres: string;
}

export async function describeMachine(databaseUrl: string): Promise<Machine> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  const r = await c.query<{ v: string; fsync: string; sc: string }>(`select current_setting('server_version') as v, current_setting('fsync') as fsync, current_setting('synchronous_commit') as sc`);
  await c.end();
  const row = r.rows[0]!;
  return {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: `${row.v} (embedded, fsync=${row.fsync}, synchronous_commit=${row.sc})`,
  };
}

/** 1-, 5- and 15-minute load averages, as `uptime` prints them. */
export const loadAverages = (): [number, number, number] => loadavg().map((v) => Math.round(v * 100) / 100) as [number, number, number];
