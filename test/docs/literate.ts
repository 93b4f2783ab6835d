import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A small literate-test runner over the Markdown docs: it runs the shell commands of README.md and
 * docs/*.md with bash and the real curl against a real scimcast, the way a user pasting them would,
 * and reports what a user would notice (a command that errors, an answer other than the one shown).
 *
 * The rules, kept few and explicit:
 * - Blocks tagged sh, bash or shell are run; in a console block only the `$ ` lines are commands
 *   (the rest is output). Other blocks (text, json, http, ts, …) are never run: they show
 *   formats or answers.
 * - One command is one shell statement: continuation lines (`\`) and multi-line quoted strings
 *   belong to it. Each runs in its own bash, with `set -o pipefail`; a variable it assigns
 *   (`STREAM=$(curl …)`) is kept for the later commands of the same run.
 * - `TOKEN=…` and `BASE=…` lines without `$(…)` are the doc's fill-in lines: the runner gives
 *   TOKEN (a token with every scope) and BASE (`<server>/scim/v2`) itself.
 * - Placeholders: `http://127.0.0.1:8080` is the test server's address; `<user id>` and `$ID` the
 *   last user created (a 201 on /Users), `$GROUP_ID` the last group created; `<txn>` the last
 *   `Set-Txn`; `$STREAM` the last `stream_id` answered; each `<jti>` the next jti of the last poll
 *   answer, in order. A placeholder with no value yet fails the command.
 * - `npx scimcast …` runs this checkout's bin/scimcast.js on the test server's database; any
 *   other `npx` fails. `<token>` is the runner's token. A stream id written out (`f-` and 12 hex
 *   digits) is the stream that the command whose shown output first has it answered (its
 *   `stream_id`, by curl or by `npx scimcast streams …`).
 * - `export A=… B=…` keeps A and B for the later commands, as an assignment does. A
 *   `DATABASE_URL=` naming another host is the doc's fill-in line: the runner's database is used.
 * - Commands run in a fresh directory per page, holding the files of test/docs/files/ (the
 *   `people.csv` the import examples read), as a user's working directory would.
 * - A console command whose shown output has a `^C` line is interrupted the way a user does it:
 *   once it has printed as many lines as the doc shows before the `^C`, it gets SIGINT, and must
 *   exit 0. A server the doc starts (`scimcast serve`, `scimcast worker`, `receive --listen`)
 *   runs in the background from its first output line (ready) while the commands after it run;
 *   at the end of the page it gets SIGINT and must exit 0 without an error line.
 * - In a console block, an output line `HTTP/1.1 NNN …` (curl -i) shows the expected status.
 * - A GET of `/AsyncRequests/…` is repeated, as a user would, until it is no longer pending or
 *   running (for up to 20 s), so the commands after it see the finished request.
 * - Expected answers: a command must exit 0 (curl: no transport error) with a 2xx or 3xx status,
 *   unless a `# HTTP/1.1 NNN …` comment right after it, or an http block right after its block,
 *   shows another. Headers shown there must match, except `Set-Txn`, `Location` and `ETag`,
 *   whose values are ids and versions and must only be present; "no body" there means an empty
 *   body. A json block right after the
 *   block is compared with the last answer, leaving out ids and timestamps.
 */

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'bin/scimcast.js');

export const RUN_LANGS = new Set(['sh', 'bash', 'shell', 'console']);

export interface Block {
  readonly file: string;
  readonly line: number;
  readonly lang: string;
  readonly text: string;
  /** The fenced block that follows with only blank lines in between, if any. */
  next?: Block;
}

export interface Expectation {
  status?: number;
  headers: Record<string, string>;
  json?: unknown;
  /** The doc says "no body". */
  noBody?: boolean;
  /** A console command shown interrupted with ^C: how many lines it prints before. */
  interruptAfterLines?: number;
}

export interface Command {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly expect: Expectation;
  /** In a console block, the output the doc shows for it. */
  readonly shown: readonly string[];
}

/** A command that cannot run in a test: `contains` is a substring of the command, `why` the reason. */
export interface Skip {
  readonly file: string;
  readonly contains: string;
  readonly why: string;
}

export function readDoc(file: string): string {
  return readFileSync(join(REPO, file), 'utf8');
}

/** The fenced code blocks of a Markdown file, in order, each linked to the block right after it. */
export function parseBlocks(file: string, markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let lastEnd = -2;
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const block: Block = { file, line: start + 1, lang: open[1]!.toLowerCase(), text: body.join('\n') };
    const prev = blocks.at(-1);
    if (prev && lines.slice(lastEnd + 1, start).every((l) => l.trim() === '')) prev.next = block;
    blocks.push(block);
    lastEnd = i;
  }
  return blocks;
}

/** Headers and status shown in `HTTP/1.1 202 Accepted` lines and `Name: value` lines or comments. */
function parseShownAnswer(lines: string[], into: Expectation): void {
  for (const line of lines) {
    const status = /HTTP\/[\d.]+ (\d{3})/.exec(line);
    if (status) into.status = Number(status[1]);
    const re = /([A-Z][A-Za-z]*(?:-[A-Z][A-Za-z]*)*): (.*?)(?=, (?:[A-Z][A-Za-z]*(?:-[A-Z][A-Za-z]*)*: |and |no body)|$)/g;
    for (const m of line.matchAll(re)) into.headers[m[1]!] = m[2]!.trim();
    if (status && /, no body\b/.test(line)) into.noBody = true;
  }
}

/** The commands of a runnable block, each with the answer the doc shows for it. */
export function commandsOf(block: Block): Command[] {
  const commands: { line: number; text: string; comments: string[]; output: string[] }[] = [];
  const lines = block.text.split('\n');
  let current: { line: number; text: string[] } | undefined;
  let quote: '' | "'" | '"' = '';
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    if (!current) {
      if (block.lang === 'console') {
        if (!line.startsWith('$ ')) {
          commands.at(-1)?.output.push(line);
          continue;
        }
        line = line.slice(2);
      }
      if (line.trim() === '') continue;
      if (line.trimStart().startsWith('#')) {
        commands.at(-1)?.comments.push(line.trimStart().slice(1).trim());
        continue;
      }
      current = { line: block.line + n + 1, text: [] };
    }
    current.text.push(line);
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (c === '\\' && quote !== "'") i++;
      else if (quote === '' && c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) break;
      else if (quote === '' && (c === "'" || c === '"')) quote = c;
      else if (c === quote) quote = '';
    }
    if (quote === '' && !/\\\s*$/.test(line)) {
      commands.push({ line: current.line, text: current.text.join('\n'), comments: [], output: [] });
      current = undefined;
    }
  }
  if (current) throw new Error(`${block.file}:${current.line}: unterminated command`);
  const result = commands.map((c) => {
    const expect: Expectation = { headers: {} };
    parseShownAnswer(c.comments, expect);
    const shownStatus = c.output.find((l) => /^HTTP\/[\d.]+ \d{3}/.test(l));
    if (shownStatus) parseShownAnswer([shownStatus], expect);
    const interrupt = c.output.findIndex((l) => l.startsWith('^C'));
    if (interrupt >= 0) expect.interruptAfterLines = interrupt;
    return { file: block.file, line: c.line, text: c.text, expect, shown: c.output };
  });
  const last = result.at(-1);
  if (last && block.next?.lang === 'http') parseShownAnswer(block.next.text.split('\n'), last.expect);
  if (last && block.next?.lang === 'json') last.expect.json = JSON.parse(block.next.text);
  return result;
}

/** The commands of a file's runnable blocks, in order. */
export function commandsOfFile(file: string): Command[] {
  return parseBlocks(file, readDoc(file))
    .filter((b) => RUN_LANGS.has(b.lang))
    .flatMap(commandsOf);
}

export interface Server {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly token: string;
  readonly dbUrl: string;
  /** Sign and store the SETs of committed changes now (what the worker does within milliseconds). */
  settle(): Promise<unknown>;
}

export interface State {
  userId?: string;
  groupId?: string;
  txn?: string;
  streamId?: string;
  /** Each stream id the doc writes out, and the stream the command that showed it answered. */
  streams: Record<string, string>;
  jtis: string[];
  vars: Record<string, string>;
}

export const newState = (): State => ({ jtis: [], vars: {}, streams: {} });

export interface Outcome {
  readonly skipped?: string;
  readonly exitCode: number;
  readonly status?: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly stderr: string;
}

// Every curl of a command writes its response headers and body where the runner reads them, and
// so does `npx scimcast` with its stdout. Functions are inherited by `$(…)`, so
// `STREAM=$(curl … | jq …)` is seen too. `tee -i`: a Ctrl-C (SIGINT to the process group) stops
// the command, not the copy of its output.
const PRELUDE = `set -o pipefail
curl() { command curl -D "$DOCS_HDR" "$@" | tee -i "$DOCS_OUT"; return \${PIPESTATUS[0]}; }
npx() { if [ "$1" = scimcast ]; then shift; node "$DOCS_BIN" "$@" | tee -i -a "$DOCS_OUT"; return \${PIPESTATUS[0]}; else echo "npx $1: not run by the doc tests" >&2; return 127; fi; }
`;

const ASSIGNMENT = /^([A-Z_][A-Z0-9_]*)=/;
const STREAM_ID = /\bf-[0-9a-f]{12}\b/g;
/** The files a page's commands may read (people.csv), copied into its working directory. */
const FILES = join(REPO, 'test/docs/files');

/** The variables a command assigns: `A=…`, or every name of `export A=… B=…`. */
function assignedNames(text: string): string[] {
  const exported = /^export\s+(.*)$/.exec(text.split('\n')[0]!);
  if (exported) return [...exported[1]!.matchAll(/(?:^|\s)([A-Z_][A-Z0-9_]*)=/g)].map((m) => m[1]!);
  const one = ASSIGNMENT.exec(text)?.[1];
  return one ? [one] : [];
}

function fill(cmd: Command, server: Server, state: State): string {
  const need = (value: string | undefined, name: string) => {
    if (value === undefined) throw new Error(`${cmd.file}:${cmd.line}: ${name} has no value yet`);
    return value;
  };
  let jti = 0;
  return cmd.text
    .replaceAll('http://127.0.0.1:8080', server.origin)
    .replaceAll('<token>', server.token)
    .replaceAll('<user id>', () => need(state.userId, '<user id>'))
    .replaceAll('<txn>', () => need(state.txn, '<txn>'))
    .replaceAll('<jti>', () => need(state.jtis[jti++], '<jti>'))
    .replaceAll(STREAM_ID, (id) => need(state.streams[id], `the stream ${id}`));
}

function env(server: Server, state: State, dir: string): Record<string, string> {
  const placeholders: Record<string, string | undefined> = { ID: state.userId, GROUP_ID: state.groupId, STREAM: state.streamId, TXN: state.txn };
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    DATABASE_URL: server.dbUrl,
    LOG_LEVEL: 'silent',
    // A server the doc starts listens beside the test's, on a free port.
    HOST: '127.0.0.1',
    PORT: '0',
    TOKEN: server.token,
    BASE: `${server.origin}/scim/v2`,
    ...Object.fromEntries(Object.entries(placeholders).filter((e): e is [string, string] => e[1] !== undefined)),
    ...state.vars,
    DOCS_HDR: join(dir, 'headers'),
    DOCS_OUT: join(dir, 'out'),
    DOCS_BIN: BIN,
  };
}

interface Shell {
  readonly child: ChildProcess;
  /** stdout and stderr as they arrive. */
  output(): { stdout: string; stderr: string };
  readonly exited: Promise<number>;
}

/** bash in a process group of its own, so that SIGINT reaches the whole command, as Ctrl-C does. */
function shell(script: string, envVars: Record<string, string>, cwd: string): Shell {
  const child = spawn('bash', ['-c', PRELUDE + script], { env: envVars, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number>((resolve) => child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { child, output: () => ({ stdout, stderr }), exited };
}

const interrupt = (sh: Shell) => {
  try {
    process.kill(-sh.child.pid!, 'SIGINT');
  } catch {
    // gone already
  }
};

/** Resolves with the exit code, or undefined when `ms` pass first (then the group is killed). */
async function within(sh: Shell, ms: number): Promise<number | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([sh.exited, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  clearTimeout(timer);
  if (code === undefined) {
    try {
      process.kill(-sh.child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  return code;
}

const lineCount = (sh: Shell) => {
  const { stdout, stderr } = sh.output();
  return (stdout + stderr).split('\n').filter((l) => l.trim() !== '').length;
};

/** Waits until `sh` has printed `lines` lines, exited, or `ms` passed. */
async function waitForLines(sh: Shell, lines: number, ms: number): Promise<void> {
  let done = false;
  void sh.exited.then(() => (done = true));
  for (const deadline = Date.now() + ms; !done && lineCount(sh) < lines && Date.now() < deadline; ) await sleep(50);
}

/** The last response of the headers file curl -D wrote (earlier ones are 1xx or redirects). */
function parseHeaders(raw: string): { status?: number; headers: Record<string, string> } {
  const responses = raw.split(/\r?\n\r?\n/).filter((r) => r.startsWith('HTTP/'));
  const last = responses.at(-1);
  if (!last) return { headers: {} };
  const [statusLine, ...rest] = last.split(/\r?\n/);
  const headers: Record<string, string> = {};
  for (const l of rest) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine!)?.[1]), headers };
}

const readOr = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** A command the doc leaves running: a server, or a receiver the next commands talk to. */
const isServer = (text: string) => /\bscimcast (serve|worker)\b/.test(text) || (/\breceive\b.*--listen\b/s.test(text) && !/--(once|max)\b/.test(text));

/** The servers a page started, stopped with Ctrl-C at its end. */
export type Background = { cmd: Command; sh: Shell }[];

async function execute(cmd: Command, server: Server, state: State, dir: string, background: Background): Promise<Outcome> {
  rmSync(join(dir, 'headers'), { force: true });
  rmSync(join(dir, 'out'), { force: true });
  const names = assignedNames(cmd.text);
  const script = fill(cmd, server, state) + names.map((n, i) => `\nprintf '%s' "$${n}" > "$DOCS_VAR.${i}"`).join('');
  const vars = { ...env(server, state, dir), DOCS_VAR: join(dir, 'var') };
  if (isServer(cmd.text)) {
    const sh = shell(script, { ...vars, LOG_LEVEL: 'info', DOCS_OUT: join(dir, `server-${background.length}.out`) }, dir);
    background.push({ cmd, sh });
    // Ready once it has printed the lines the doc shows for it (a receiver: "listening on …"), or
    // when the doc shows none, its first line (serve: "listening on …", worker: "… running").
    await waitForLines(sh, Math.max(1, cmd.shown.length), 20_000);
    const code = await Promise.race([sh.exited, sleep(0).then(() => undefined)]);
    if (code !== undefined) return { exitCode: code || 1, headers: {}, body: sh.output().stdout, stderr: `exited while it should run: ${sh.output().stderr}` };
    if (lineCount(sh) < Math.max(1, cmd.shown.length)) return { exitCode: 1, headers: {}, body: '', stderr: `printed ${lineCount(sh)} of the ${Math.max(1, cmd.shown.length)} lines it shows when ready, in 20 s` };
    return { skipped: 'runs in the background', exitCode: 0, headers: {}, body: '', stderr: '' };
  }
  const sh = shell(script, vars, dir);
  const before = cmd.expect.interruptAfterLines;
  let short = '';
  if (before !== undefined) {
    await waitForLines(sh, before, 20_000);
    if (lineCount(sh) < before) short = `printed ${lineCount(sh)} of the ${before} lines the doc shows before ^C, in 20 s\n`;
    interrupt(sh);
  }
  const run = (await within(sh, 30_000)) ?? 124;
  const code = short && run === 0 ? 1 : run;
  const stderr = short + sh.output().stderr;
  if (code === 0) names.forEach((n, i) => (state.vars[n] = readFileSync(join(dir, `var.${i}`), 'utf8')));
  const { status, headers } = parseHeaders(readOr(join(dir, 'headers')));
  let body = readOr(join(dir, 'out'));
  // With -i the headers come first in the output too.
  if (body.startsWith('HTTP/')) body = body.split(/\r?\n\r?\n/).filter((p) => !p.startsWith('HTTP/')).join('\n\n');
  return { exitCode: code, ...(status ? { status } : {}), headers, body, stderr };
}

function learn(outcome: Outcome, state: State): void {
  const txn = outcome.headers['set-txn'];
  if (txn) state.txn = txn;
  const created = outcome.status === 201 ? /\/(Users|Groups)\/([^/?\s]+)$/.exec(outcome.headers.location ?? '') : null;
  if (created) state[created[1] === 'Users' ? 'userId' : 'groupId'] = created[2]!;
  let json: unknown;
  try {
    json = JSON.parse(outcome.body);
  } catch {
    return;
  }
  if (json && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    if (typeof o.stream_id === 'string') state.streamId = o.stream_id;
    if (o.sets && typeof o.sets === 'object') state.jtis = Object.keys(o.sets);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The doc's fill-in lines: values the runner gives itself. */
function isFillIn(text: string): boolean {
  if (text.includes('$(')) return false;
  if (/^(TOKEN|BASE)=/.test(text)) return true;
  const db = /^(?:export\s+)?DATABASE_URL=(\S+)$/.exec(text.trim());
  return db !== null && !/@(127\.0\.0\.1|localhost)[:/]/.test(db[1]!);
}

/** Run one command as the rules above say; `skips` lists the commands that are not run. */
export async function runCommand(cmd: Command, server: Server, state: State, skips: readonly Skip[], dir: string, background: Background = []): Promise<Outcome> {
  const skip = skips.find((s) => s.file === cmd.file && cmd.text.includes(s.contains));
  if (skip) return { skipped: skip.why, exitCode: 0, headers: {}, body: '', stderr: '' };
  if (isFillIn(cmd.text)) return { skipped: 'the runner fills it in', exitCode: 0, headers: {}, body: '', stderr: '' };
  await server.settle();
  let outcome = await execute(cmd, server, state, dir, background);
  const deadline = Date.now() + 20_000;
  while (/\/AsyncRequests\/[^\s?]/.test(cmd.text) && /"status":"(pending|running)"/.test(outcome.body) && Date.now() < deadline) {
    await sleep(250);
    await server.settle();
    outcome = await execute(cmd, server, state, dir, background);
  }
  learn(outcome, state);
  const shownStream = cmd.shown.join('\n').match(STREAM_ID)?.[0];
  if (shownStream && !cmd.text.includes(shownStream) && state.streamId) state.streams[shownStream] = state.streamId;
  return outcome;
}

/** Ctrl-C to each server a page started: each must exit 0, without an error line. */
async function stopServers(background: Background): Promise<string[]> {
  const found: string[] = [];
  for (const { sh } of background) interrupt(sh);
  for (const { cmd, sh } of background) {
    const code = await within(sh, 20_000);
    const { stdout, stderr } = sh.output();
    const where = `${cmd.file}:${cmd.line} \`${cmd.text.split('\n')[0]}\``;
    if (code !== 0) found.push(`${where}: ${code === undefined ? 'did not stop within 20 s of Ctrl-C' : `exited ${code} on Ctrl-C`}: ${stderr.slice(-500)}`);
    if (/"level":("error"|"fatal"|50|60)|\bError\b/.test(stdout + stderr)) found.push(`${where}: an error line: ${(stdout + stderr).slice(-500)}`);
  }
  return found;
}

// Ids, versions and times differ from run to run.
const VOLATILE = new Set(['id', 'jti', 'txn', 'stream_id', 'created', 'lastModified', 'location', 'version', 'iat', 'toe', 'exp', 'received_at', 'failed_at', 'created_at']);

/** Where `actual` differs from the shown `expected` (a subset compare, volatile keys left out). */
export function jsonDiff(expected: unknown, actual: unknown, path = '$'): string[] {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [`${path}: expected ${expected.length} items, got ${JSON.stringify(actual)}`];
    return expected.flatMap((e, i) => jsonDiff(e, actual[i], `${path}[${i}]`));
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object') return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([k, v]) =>
      VOLATILE.has(k) ? (k in actual ? [] : [`${path}.${k}: missing`]) : jsonDiff(v, (actual as Record<string, unknown>)[k], `${path}.${k}`),
    );
  }
  return expected === actual ? [] : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

const PRESENCE_ONLY = new Set(['set-txn', 'location', 'etag']);

/** What is wrong with an outcome, compared with what the doc shows: [] when nothing. */
export function problems(cmd: Command, outcome: Outcome): string[] {
  if (outcome.skipped) return [];
  const where = `${cmd.file}:${cmd.line} \`${cmd.text.split('\n')[0]}\``;
  const out: string[] = [];
  if (outcome.exitCode !== 0) out.push(`exited ${outcome.exitCode}: ${outcome.stderr.trim().slice(0, 500)}`);
  const { status, headers, json, noBody } = cmd.expect;
  if (noBody && outcome.body !== '') out.push(`a body, the doc shows none: ${outcome.body.slice(0, 200)}`);
  if (status !== undefined && outcome.status !== status) out.push(`status ${outcome.status}, the doc shows ${status}: ${outcome.body.slice(0, 500)}`);
  if (status === undefined && outcome.status !== undefined && outcome.status >= 400) out.push(`status ${outcome.status}: ${outcome.body.slice(0, 500)}`);
  for (const [name, value] of Object.entries(headers)) {
    const got = outcome.headers[name.toLowerCase()];
    if (got === undefined) out.push(`no ${name} header, the doc shows one`);
    else if (!PRESENCE_ONLY.has(name.toLowerCase()) && got !== value) out.push(`${name}: ${got}, the doc shows ${value}`);
  }
  if (json !== undefined) {
    try {
      out.push(...jsonDiff(json, JSON.parse(outcome.body)));
    } catch {
      out.push(`the answer is not JSON, the doc shows JSON: ${outcome.body.slice(0, 200)}`);
    }
  }
  return out.map((p) => `${where}: ${p}`);
}

/** Run the commands in order, and return every problem found (stopping at none). */
export async function runCommands(commands: readonly Command[], server: Server, state: State, skips: readonly Skip[], used: Set<Skip>): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'scimcast-docs-'));
  cpSync(FILES, dir, { recursive: true });
  const found: string[] = [];
  const background: Background = [];
  try {
    for (const cmd of commands) {
      const skip = skips.find((s) => s.file === cmd.file && cmd.text.includes(s.contains));
      if (skip) used.add(skip);
      try {
        found.push(...problems(cmd, await runCommand(cmd, server, state, skips, dir, background)));
      } catch (err) {
        found.push(String(err instanceof Error ? err.message : err));
      }
    }
  } finally {
    found.push(...(await stopServers(background)));
    rmSync(dir, { recursive: true, force: true });
  }
  return found;
}
