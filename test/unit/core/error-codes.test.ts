import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_ERROR_CODES } from '../../../src/core/errors.js';

/**
 * The AppError registry (src/core/errors.ts) is the truth about internal error codes: every code
 * in it is raised or tested for somewhere, and every code raised is in it. The type system
 * already refuses `new AppError('ERR_UNKNOWN', …)`; this catches the other half (a code left in
 * the registry after its last use went) and codes made up beside it on plain errors.
 */
const SRC = join(import.meta.dirname, '../../../src');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
const sources = files(SRC).map((p) => ({ path: relative(SRC, p), text: readFileSync(p, 'utf8') }));
const REGISTRY_FILE = join('core', 'errors.ts');

/** `ERR_…` codes that belong to libraries scimcast only reads (never raises itself). */
const FOREIGN_CODES = new Set([
  // jose: no key in a JWKS matches the SET's kid (events/verify.ts).
  'ERR_JWKS_NO_MATCHING_KEY',
]);

describe('AppError codes: the registry in core/errors.ts is the truth', () => {
  it('every registered code is used outside the registry', () => {
    const unused = APP_ERROR_CODES.filter((code) => !sources.some((s) => s.path !== REGISTRY_FILE && s.text.includes(`'${code}'`)));
    expect(unused).toEqual([]);
  });

  it('every AppError is constructed with a registered code', () => {
    const used = sources.flatMap((s) => [...s.text.matchAll(/new AppError\(\s*'([^']+)'/g)].map((m) => ({ file: s.path, code: m[1]! })));
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((u) => !(APP_ERROR_CODES as readonly string[]).includes(u.code))).toEqual([]);
  });

  it('no ERR_ code is made up outside the registry', () => {
    const adHoc = sources.flatMap((s) =>
      [...s.text.matchAll(/'(ERR_[A-Z0-9_]+)'/g)]
        .map((m) => m[1]!)
        .filter((code) => !(APP_ERROR_CODES as readonly string[]).includes(code) && !FOREIGN_CODES.has(code))
        .map((code) => `${s.path}: ${code}`),
    );
    expect(adHoc).toEqual([]);
  });
});
