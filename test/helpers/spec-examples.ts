import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SpecExample<T = unknown> {
  source: string;
  url: string;
  kind: string;
  note?: string;
  example: T;
}

const ROOT = join(import.meta.dirname, '../../spec-examples');

/** Load `spec-examples/<spec>/<file>.json`: one example message of an RFC, with its source section. */
export function specExample<T = Record<string, unknown>>(path: string): SpecExample<T> {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as SpecExample<T>;
}
