import { AppError } from '../../core/errors.js';
import { parseCsv } from './csv.js';
import { GROUP_URN, rejectDuplicates, USER_URN, type ImportItem, type ItemError, type ParsedImport } from './items.js';

/**
 * The CSV column mapping (docs/cli.md, "scimcast bulk import"):
 *
 * | column      | user                                   | group                          |
 * |-------------|----------------------------------------|--------------------------------|
 * | type        | `user`                                 | `group`                        |
 * | externalId  | externalId (required)                  | externalId (required)          |
 * | userName    | userName (required)                    | must be empty                  |
 * | displayName | displayName                            | displayName (required)         |
 * | givenName   | name.givenName                         | must be empty                  |
 * | familyName  | name.familyName                        | must be empty                  |
 * | email       | emails[{value, type: work, primary}]   | must be empty                  |
 * | members     | must be empty                          | member externalIds, `;`-separated |
 *
 * Only `type` and `externalId` columns are required in the header; an unknown column is an error
 * (a typo would otherwise drop data silently). Column names match case-insensitively.
 */
export const CSV_COLUMNS = ['type', 'externalId', 'userName', 'displayName', 'givenName', 'familyName', 'email', 'members'] as const;
type Column = (typeof CSV_COLUMNS)[number];
const USER_ONLY: Column[] = ['userName', 'givenName', 'familyName', 'email'];

function headerIndex(header: string[]): Map<Column, number> {
  const index = new Map<Column, number>();
  header.forEach((raw, i) => {
    const name = raw.trim();
    const col = CSV_COLUMNS.find((c) => c.toLowerCase() === name.toLowerCase());
    if (!col) throw new AppError('ERR_IMPORT_INPUT', `CSV header: unknown column '${name}' (columns: ${CSV_COLUMNS.join(',')})`);
    if (index.has(col)) throw new AppError('ERR_IMPORT_INPUT', `CSV header: column '${col}' appears twice`);
    index.set(col, i);
  });
  for (const required of ['type', 'externalId'] as const) {
    if (!index.has(required)) throw new AppError('ERR_IMPORT_INPUT', `CSV header: column '${required}' is required (columns: ${CSV_COLUMNS.join(',')})`);
  }
  return index;
}

/** One data row → an item, or the reason it cannot be one. */
function rowItem(line: number, get: (c: Column) => string): ImportItem | ItemError {
  const rawType = get('type').toLowerCase();
  const externalId = get('externalId');
  const fail = (reason: string): ItemError => ({ line, type: rawType === 'user' || rawType === 'group' ? rawType : undefined, externalId: externalId || undefined, reason });
  if (rawType !== 'user' && rawType !== 'group') return fail(`type must be 'user' or 'group', not '${get('type')}'`);
  if (!externalId) return fail('externalId is required');
  const displayName = get('displayName');
  if (rawType === 'group') {
    const stray = USER_ONLY.filter((c) => get(c) !== '');
    if (stray.length) return fail(`${stray.join(', ')} must be empty for a group`);
    if (!displayName) return fail('displayName is required for a group');
    const members = [...new Set(get('members').split(';').map((m) => m.trim()).filter(Boolean))].map((externalId) => ({ externalId }));
    return { line, type: 'group', externalId, resource: { schemas: [GROUP_URN], externalId, displayName }, members };
  }
  if (get('members') !== '') return fail('members must be empty for a user');
  const userName = get('userName');
  if (!userName) return fail('userName is required for a user');
  const resource: Record<string, unknown> = { schemas: [USER_URN], externalId, userName };
  if (displayName) resource.displayName = displayName;
  const name: Record<string, string> = {};
  if (get('givenName')) name.givenName = get('givenName');
  if (get('familyName')) name.familyName = get('familyName');
  if (Object.keys(name).length) resource.name = name;
  if (get('email')) resource.emails = [{ value: get('email'), type: 'work', primary: true }];
  return { line, type: 'user', externalId, resource, members: [] };
}

/** A CSV import file (RFC 4180 with the header above) → items and per-row errors. */
export function parseCsvImport(text: string): ParsedImport {
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new AppError('ERR_IMPORT_INPUT', 'the CSV file is empty (it needs a header line)');
  const index = headerIndex(header.fields);
  const items: ImportItem[] = [];
  const errors: ItemError[] = [];
  for (const row of rows) {
    if (row.fields.length !== header.fields.length) {
      errors.push({ line: row.line, reason: `has ${row.fields.length} fields; the header has ${header.fields.length}` });
      continue;
    }
    const get = (c: Column) => {
      const i = index.get(c);
      return i === undefined ? '' : row.fields[i]!.trim();
    };
    const r = rowItem(row.line, get);
    if ('reason' in r) errors.push(r);
    else items.push(r);
  }
  return rejectDuplicates({ items, errors });
}
