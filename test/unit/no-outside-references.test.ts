import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Reasons travel with the code: no file may send its reader to a document the repository does not
 * hold. An issue number, a review finding, a requirement ID of a private digest (EVT-24, Q-21 …)
 * or the name of a working note means nothing to someone who clones the repository. Cite the RFC
 * section (`RFC 7644 §3.7.3`), link a decision record in docs/decisions/, or write the reason.
 */
const ROOT = join(import.meta.dirname, '../..');

/**
 * test/ still carries such references, rewritten on another branch. Once that branch is merged,
 * set this to true: test/ is then scanned like the other folders.
 */
const SCAN_TEST = true;

/** Folders scanned, with every file below them; plus the top-level files (vitest.config.ts …). */
const FOLDERS = ['src', 'bench', 'scripts', 'bin'];
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'results', '.scimcast']);
const TEXT_FILE = /\.(ts|js|mjs|cjs|json|md|sql|sh|ya?ml|txt|csv|ndjson)$/;

/** This file has to name what it looks for. */
const SELF = relative(ROOT, import.meta.filename);

/** What refers outside the repository, each with the fix a reader would want. */
const RULES: { pattern: RegExp; what: string }[] = [
  { pattern: /\bissue\s+#?\d+/i, what: 'an issue number' },
  { pattern: /\bfinding\s+#?\d+/i, what: 'a review finding' },
  { pattern: /\b(?:EVT|BULK|ASYNC|PREF|POLL|SET|SSF|SPC|ETAG|PUSH|ERR|Q)-\d+\b/, what: 'a requirement ID of the spec digest' },
  { pattern: /spec-digest|stack-notes/, what: 'a working note outside the repository' },
  { pattern: /\bconventions\.md\b|\barchitecture\.md\b|\barchitecture B\d\b/, what: 'a design note outside the repository (ARCHITECTURE.md is the one in it)' },
  { pattern: /\bconventions(?::|\s+"|\))/, what: 'the conventions note outside the repository' },
  { pattern: /\bshared\/[\w.-]+\.md\b|\/work\//, what: 'a path on the machine the code was written on' },
  { pattern: /\b(?:issue|brief)\d+\.md\b/, what: 'a task file outside the repository' },
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return SKIPPED_DIRS.has(name) ? [] : filesUnder(p);
    return TEXT_FILE.test(name) ? [p] : [];
  });
}

const topLevelFiles = () => readdirSync(ROOT).filter((name) => /\.(ts|js|mjs|cjs)$/.test(name) && statSync(join(ROOT, name)).isFile()).map((name) => join(ROOT, name));

/** `file:line: text (what)` for every line of these files that refers outside the repository. */
function outsideReferences(files: readonly string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    const path = relative(ROOT, file);
    if (path === SELF) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const rule = RULES.find((r) => r.pattern.test(line));
        if (rule) found.push(`${path}:${i + 1}: ${line.trim()} (${rule.what})`);
      });
  }
  return found;
}

describe('no file refers to documents outside the repository', () => {
  for (const folder of FOLDERS) {
    it(`${folder}/`, () => {
      expect(outsideReferences(filesUnder(join(ROOT, folder)))).toEqual([]);
    });
  }

  it('the top-level files (vitest.config.ts, drizzle.config.ts …)', () => {
    expect(outsideReferences(topLevelFiles())).toEqual([]);
  });

  it.skipIf(!SCAN_TEST)('test/', () => {
    expect(outsideReferences(filesUnder(join(ROOT, 'test')))).toEqual([]);
  });

  it('the rules catch what they are for, and not RFC citations', () => {
    const hits = (line: string) => RULES.filter((r) => r.pattern.test(line)).map((r) => r.what);
    for (const line of ['// see issue 6 §3', ' * (Issue 10 §4)', '/** BULK-14 */', 'status as a string (Q-2)', 'spec-digest §4.3', 'architecture B2', '(conventions: CLI)', 'review finding 3']) {
      expect(hits(line), line).not.toEqual([]);
    }
    for (const line of ['@see RFC 7644 §3.7.3', 'RFC 9967 §2.5.1.2', 'OpenID SSF 1.0 §8.1.2', 'https://github.com/graphile/worker/issues/621', 'ARCHITECTURE.md', "parsed.error.issues[0]", 'an error code: ERR_TXN_NOT_FOUND']) {
      expect(hits(line), line).toEqual([]);
    }
  });
});
