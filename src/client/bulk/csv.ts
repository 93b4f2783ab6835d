import { AppError } from '../../core/errors.js';

/** One CSV record and the 1-based line it starts on (quoted fields may span lines). */
export interface CsvRecord {
  readonly line: number;
  readonly fields: string[];
}

const QUOTE = 34; // "
const COMMA = 44; // ,
const CR = 13;
const LF = 10;

/**
 * RFC 4180 CSV (§2): fields separated by commas, records by CRLF (a bare LF is accepted too, as
 * spreadsheets on Unix write it). A field in double quotes may hold commas, line breaks and `""`
 * for a quote. A quote inside an unquoted field, or text after a closing quote, is an error with
 * the line, because guessing would shift columns silently. A leading UTF-8 BOM is dropped, and
 * empty lines are skipped (they are never a valid record of an 8-column file).
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    const c0 = text.charCodeAt(i);
    if (c0 === LF || (c0 === CR && text.charCodeAt(i + 1) === LF)) {
      i += c0 === CR ? 2 : 1;
      line++;
      continue;
    }
    const fields: string[] = [];
    for (;;) {
      let value = '';
      if (text.charCodeAt(i) === QUOTE) {
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) throw new AppError('ERR_IMPORT_INPUT', `CSV line ${start}: a quoted field is never closed`);
          const chunk = text.slice(i, q);
          for (let k = chunk.indexOf('\n'); k >= 0; k = chunk.indexOf('\n', k + 1)) line++;
          value += chunk;
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += '"';
            i = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        const after = text.charCodeAt(i);
        if (i < n && after !== COMMA && after !== LF && !(after === CR && text.charCodeAt(i + 1) === LF)) {
          throw new AppError('ERR_IMPORT_INPUT', `CSV line ${line}: unexpected text after a closing quote`);
        }
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === COMMA || c === LF || (c === CR && text.charCodeAt(j + 1) === LF)) break;
          if (c === QUOTE) throw new AppError('ERR_IMPORT_INPUT', `CSV line ${line}: a quote inside an unquoted field (quote the whole field and double the quote)`);
          j++;
        }
        value = text.slice(i, j);
        i = j;
      }
      fields.push(value);
      const c = text.charCodeAt(i);
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c === CR) i += 2;
      else if (c === LF) i += 1;
      if (i <= n) line++;
      break;
    }
    records.push({ line: start, fields });
  }
  return records;
}
