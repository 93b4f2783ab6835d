import { badRequest, type ScimError } from '../../core/errors.js';

/**
 * An internal parse failure: what was expected and at which character. Filters and PATCH
 * paths share the lexer and parser but answer with different scimTypes (RFC 7644 §3.12
 * Table 9: `invalidFilter` for `filter=`, `invalidPath` for a PATCH `path`), so the parser
 * throws this and each entry point converts it once.
 */
export class FilterSyntaxError extends Error {
  /** 0-based index into the text (as in `JSON.parse` messages); undefined for whole-text bounds. */
  readonly position: number | undefined;

  constructor(position: number | undefined, message: string) {
    super(message);
    this.name = 'FilterSyntaxError';
    this.position = position;
  }
}

/** `Invalid filter at position 9: expected …` / `Invalid path: …`. */
export function toScimError(e: FilterSyntaxError, scimType: 'invalidFilter' | 'invalidPath'): ScimError {
  const what = scimType === 'invalidFilter' ? 'filter' : 'path';
  const where = e.position === undefined ? '' : ` at position ${e.position}`;
  return badRequest(scimType, `Invalid ${what}${where}: ${e.message}`);
}

/** Runs `fn`, turning a FilterSyntaxError into the ScimError the client sees. */
export function withScimErrors<T>(scimType: 'invalidFilter' | 'invalidPath', fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FilterSyntaxError) throw toScimError(e, scimType);
    throw e;
  }
}
