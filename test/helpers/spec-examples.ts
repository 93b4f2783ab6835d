import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SpecExample<T = unknown> {
  source: string;
  url: string;
  kind: string;
  note?: string;
  example: T;
}

/** The folder of example files; test/unit/spec-examples-replayed.test.ts checks each is replayed. */
export const SPEC_EXAMPLES_DIR = join(import.meta.dirname, '../../spec-examples');

/** Load `spec-examples/<spec>/<file>.json`: one example message of an RFC, with its source section. */
export function specExample<T = Record<string, unknown>>(path: string): SpecExample<T> {
  return JSON.parse(readFileSync(join(SPEC_EXAMPLES_DIR, path), 'utf8')) as SpecExample<T>;
}
