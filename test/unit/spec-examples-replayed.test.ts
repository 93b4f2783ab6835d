import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPEC_EXAMPLES_DIR } from '../helpers/spec-examples.js';

/**
 * Every file in spec-examples/ is replayed by some test, so an example added without a replay
 * fails here instead of sitting unused. A file counts as replayed when a test source that loads
 * examples (it names `spec-examples`, through the helper or the folder's path) names the file in
 * a string, outside comments: `specExample('rfc7644/3.7.1-circular-reference.json')`, or a
 * per-RFC loader such as `replay('3.5.2.1-add-member.json', …)`.
 */
const TEST_DIR = join(import.meta.dirname, '..');
const THIS_FILE = join(import.meta.dirname, 'spec-examples-replayed.test.ts');
const HELPER = join(TEST_DIR, 'helpers', 'spec-examples.ts');

const files = (dir: string, ext: string) =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext))
    .map((f) => join(dir, f));

const examples = files(SPEC_EXAMPLES_DIR, '.json').map((f) => relative(SPEC_EXAMPLES_DIR, f).split(sep).join('/'));

/** Test sources that load examples, with comment lines removed (a name in a comment is no replay). */
const loaders = files(TEST_DIR, '.ts')
  .filter((f) => f !== THIS_FILE && f !== HELPER)
  .map((f) => ({ file: relative(TEST_DIR, f), code: readFileSync(f, 'utf8').split('\n').filter((l) => !/^\s*(\/\/|\/\*|\*)/.test(l)).join('\n') }))
  .filter((s) => s.code.includes('spec-examples'));

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The test sources that name `example` (its path or its file name) in a string literal. */
const replayersOf = (example: string) => {
  const name = escape(example.split('/').at(-1)!);
  const literal = new RegExp(`[\`'"/]${name}[\`'"]`);
  return loaders.filter((s) => literal.test(s.code)).map((s) => s.file);
};

describe('spec-examples/ is replayed in full', () => {
  it('finds the examples and the tests that load them', () => {
    expect(examples.length).toBeGreaterThan(40);
    expect(loaders.map((s) => s.file)).toContain(join('spec', 'rfc7644-bulk.test.ts'));
  });

  it('every example file is named by a test that loads examples', () => {
    expect(examples.filter((e) => replayersOf(e).length === 0)).toEqual([]);
  });

  it('a file no test names is reported', () => {
    expect(replayersOf('rfc7644/0.0-never-replayed.json')).toEqual([]);
    expect(replayersOf('rfc7644/3.7.1-circular-reference.json')).toEqual([join('spec', 'rfc7644-bulk.test.ts')]);
  });
});
