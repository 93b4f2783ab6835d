import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { commandsOfFile, newState, parseBlocks, readDoc, runCommands, RUN_LANGS, type Skip } from './literate.js';

/**
 * Every shell command of the docs runs against a real scimcast (HTTP on loopback, real Postgres,
 * a real graphile-worker), with bash and curl, as test/docs/literate.ts describes. A documented
 * command that errors, or whose answer differs from the one the doc shows, fails here.
 *
 * Each page runs on a fresh server after the README's Quick start, which every page assumes
 * (TOKEN, BASE and the user bjensen and group "Tour Guides" it creates).
 */

/** Pages whose commands run, in the order a reader meets them. */
const COVERED = ['README.md', 'docs/resources-and-queries.md', 'docs/patch.md', 'docs/async-requests.md', 'docs/events-and-streams.md', 'docs/openapi.md', 'docs/console.md', 'docs/cli.md', 'docs/own-postgresql.md'];

// Pages without a command of their own (docs/poll.md shows only a body format, in a json block)
// need no run: the check below finds them again when they get one.

/** Pages with runnable blocks that are not run yet, and why (none today: keep it so). */
const NOT_YET: Record<string, string> = {};

/** Commands that cannot run in a test: reviewed one by one, matched by file and a substring. */
const SKIPS: Skip[] = [
  { file: 'README.md', contains: 'npm ci && npm start', why: 'installs and starts a server on port 8080; the test starts its own' },
  { file: 'README.md', contains: 'npm ci && npm test', why: 'the whole test suite' },
  { file: 'docs/async-requests.md', contains: 'callback="https://receiver.example', why: 'pushes to an external host (test/integration covers callbacks with a loopback receiver)' },
  { file: 'docs/events-and-streams.md', contains: 'streams redrive', why: 'a syntax summary: needs dead-lettered SETs (test/integration covers redrive)' },
  { file: 'docs/events-and-streams.md', contains: 'streams replay', why: 'a syntax summary: needs delivered SETs (test/integration covers replay)' },
];

const used = new Set<Skip>();
let t: TestApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function serve(): Promise<TestApp> {
  t = await startTestApp({}, { worker: true });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  return t;
}

describe('the docs run as written', () => {
  for (const file of COVERED) {
    it(`${file}: every command runs and answers as shown`, async () => {
      const app = await serve();
      const { port } = app.app.server.address() as AddressInfo;
      const server = { origin: `http://127.0.0.1:${port}`, token: app.token, dbUrl: app.dbUrl, settle: () => app.settle() };
      const commands = [...(file === 'README.md' ? [] : commandsOfFile('README.md')), ...commandsOfFile(file)];
      expect(commands.length).toBeGreaterThan(0);
      expect(await runCommands(commands, server, newState(), SKIPS, used)).toEqual([]);
      // Each `npx scimcast` starts a CLI process (several seconds on a loaded machine).
    }, 120_000);
  }

  it('every page with runnable blocks is run or listed with a reason', () => {
    const pages = ['README.md', ...readdirSync(new URL('../../docs/', import.meta.url)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const runnable = pages.filter((p) => parseBlocks(p, readDoc(p)).some((b) => RUN_LANGS.has(b.lang)));
    expect(runnable.filter((p) => !COVERED.includes(p) && !(p in NOT_YET))).toEqual([]);
    expect(Object.keys(NOT_YET).filter((p) => COVERED.includes(p))).toEqual([]);
  });

  it('every skip still matches a documented command', () => {
    const stale = SKIPS.filter((s) => !commandsOfFile(s.file).some((c) => c.text.includes(s.contains)));
    expect(stale).toEqual([]);
  });
});
