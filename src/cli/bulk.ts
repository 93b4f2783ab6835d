import { parseArgs } from 'node:util';
import { BulkClient } from '../client/bulk-client.js';
import { readImportFile, type ImportFormat } from '../client/bulk-input.js';
import { progressPrinter } from '../client/bulk-progress.js';
import { formatReport } from '../client/bulk/report.js';
import { NoAnswerError } from '../client/scim-http.js';
import { clientSettings } from '../config/client.js';
import { AppError } from '../core/errors.js';

/**
 * `scimcast bulk import FILE`: users and groups from CSV or NDJSON into any RFC 7644 server
 * (docs/cli.md, "scimcast bulk import"). stdout carries the report (text, or JSON with --json);
 * progress goes to stderr. Exit 0 when every row was imported, 1 when some failed or were
 * skipped (or the import could not run), 2 for bad usage or an unreadable file.
 */
export const BULK_USAGE = `  scimcast bulk import FILE [--url URL] [--token T] [--concurrency N] [--async] [--fail-on-errors N]
                   [--journal PATH] [--format csv|ndjson] [--json] [--quiet] [--max-operations N] [--max-payload-size B]
                   [--max-attempts N] [--timeout S]
                                      import users and groups (CSV or NDJSON) with Bulk requests; resumable`;

const usage = (msg: string) => new AppError('ERR_CONFIG_INVALID', `${msg}\nUsage:\n${BULK_USAGE}`);

function intOf(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw usage(`--${name} must be an integer of at least ${min}`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        concurrency: { type: 'string' },
        async: { type: 'boolean', default: false },
        'fail-on-errors': { type: 'string' },
        journal: { type: 'string' },
        format: { type: 'string' },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        'max-operations': { type: 'string' },
        'max-payload-size': { type: 'string' },
        'max-attempts': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`scimcast bulk: ${(e as Error).message}\nUsage:\n${BULK_USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`Usage:\n${BULK_USAGE}\n`);
    return 0;
  }
  try {
    return await bulkImport(parsed.values, parsed.positionals);
  } catch (e) {
    if (e instanceof AppError) {
      process.stderr.write(`scimcast bulk: ${e.message}\n`);
      return e.code === 'ERR_CONFIG_INVALID' || e.code === 'ERR_IMPORT_INPUT' || e.code === 'ERR_IMPORT_JOURNAL' ? 2 : 1;
    }
    // The server is down or unreachable (after every retry): a message, not a stack trace.
    if (e instanceof NoAnswerError) {
      process.stderr.write(`scimcast bulk: no answer from the server: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

type Values = {
  url?: string | undefined;
  token?: string | undefined;
  concurrency?: string | undefined;
  async?: boolean | undefined;
  'fail-on-errors'?: string | undefined;
  journal?: string | undefined;
  format?: string | undefined;
  json?: boolean | undefined;
  quiet?: boolean | undefined;
  'max-operations'?: string | undefined;
  'max-payload-size'?: string | undefined;
  'max-attempts'?: string | undefined;
  timeout?: string | undefined;
};

async function bulkImport(v: Values, positionals: string[]): Promise<number> {
  const [sub, file, ...extra] = positionals;
  if (sub !== 'import' || !file || extra.length) throw usage('expected: bulk import FILE');
  if (v.format !== undefined && v.format !== 'csv' && v.format !== 'ndjson') throw usage('--format must be csv or ndjson');
  const settings = clientSettings({ url: v.url, token: v.token });
  if (!settings.url) throw usage('--url (or SCIMCAST_URL) is required: the SCIM base, e.g. http://127.0.0.1:8080/scim/v2');
  const parsed = await readImportFile(file, v.format as ImportFormat | undefined);

  const progress = v.quiet ? undefined : progressPrinter(process.stderr);
  // First Ctrl-C: finish what is in flight and report (the journal resumes the rest). Second: leave.
  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('\nscimcast bulk: stopping after the requests in flight (Ctrl-C again to quit now)\n');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  const journal = v.journal ?? `${file}.journal.ndjson`;
  const client = new BulkClient({
    url: settings.url,
    token: settings.token,
    concurrency: intOf('concurrency', v.concurrency, 1),
    async: v.async,
    failOnErrors: intOf('fail-on-errors', v['fail-on-errors'], 1),
    journal,
    maxOperations: intOf('max-operations', v['max-operations'], 1),
    maxPayloadSize: intOf('max-payload-size', v['max-payload-size'], 256),
    maxAttempts: intOf('max-attempts', v['max-attempts'], 1),
    timeoutMs: (intOf('timeout', v.timeout, 1) ?? 300) * 1000,
    onProgress: progress ? (p) => progress.update(p) : undefined,
    signal: stop.signal,
  });
  let report;
  try {
    report = await client.import(parsed);
  } finally {
    progress?.end();
    process.off('SIGINT', onSigint);
  }
  process.stdout.write(v.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, file, settings.url));
  return report.failed === 0 && report.skipped === 0 ? 0 : 1;
}
