import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { AppError } from '../core/errors.js';
import { parseCsvImport } from './bulk/csv-items.js';
import type { ParsedImport } from './bulk/items.js';
import { parseNdjsonImport } from './bulk/ndjson-items.js';

export type ImportFormat = 'csv' | 'ndjson';

/** The format by extension (`.csv`; `.ndjson`, `.jsonl`), else by the first character (`{`). */
export function detectFormat(path: string, text: string): ImportFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  return text.trimStart().startsWith('{') ? 'ndjson' : 'csv';
}

/** Read and parse an import file (CSV or NDJSON; see docs/cli.md, "scimcast bulk import"). */
export async function readImportFile(path: string, format?: ImportFormat): Promise<ParsedImport & { format: ImportFormat }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new AppError('ERR_IMPORT_INPUT', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const f = format ?? detectFormat(path, text);
  return { ...(f === 'csv' ? parseCsvImport(text) : parseNdjsonImport(text)), format: f };
}
