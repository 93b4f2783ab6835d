import { envSchema } from './schema.js';

export type CliLogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** pino's order: a line is written when its level is at or above the threshold. */
const RANK: Readonly<Record<CliLogLevel, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/**
 * The threshold for the CLI's own log lines ("starting embedded PostgreSQL", process restarts):
 * LOG_LEVEL, as for the server's request log. Read apart from the full configuration, so an admin
 * command whose other settings are invalid still logs by the same rule; an invalid LOG_LEVEL is
 * reported by the full configuration when the command loads it.
 */
export function cliLogLevel(env: Record<string, string | undefined> = process.env): CliLogLevel {
  const parsed = envSchema.shape.LOG_LEVEL.safeParse(env.LOG_LEVEL || undefined);
  return parsed.success ? parsed.data : 'info';
}

export function logs(threshold: CliLogLevel, level: Exclude<CliLogLevel, 'silent'>): boolean {
  return RANK[level] >= RANK[threshold];
}
