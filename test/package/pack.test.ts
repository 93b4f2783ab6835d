import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/storage/embedded.js';

/**
 * The package as someone outside the checkout gets it: `npm pack` (which builds dist/ through the
 * `prepare` script), the tarball installed into an empty directory from the npm registry, then
 * `npx scimcast start`, one SCIM request, a clean stop, and the library imported by plain `node`.
 *
 * The install resolves the dependencies the way a user's does. `--prefer-offline` takes what npm's
 * cache already holds (`npm ci` of the checkout filled it) and asks the registry only for the rest.
 */
const ROOT = join(import.meta.dirname, '../..');
const run = promisify(execFile);

/**
 * The environment of a user's shell: nothing of the test run's database, vite's BASE_URL, npm's
 * per-script variables (`npm test` sets them), or a loader in NODE_OPTIONS that would let `node`
 * import TypeScript.
 */
const userEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|TEST_DATABASE_URL|BASE_URL|HOST|PORT|NODE_OPTIONS|INIT_CWD|SCIMCAST_.*|npm_package_.*|npm_lifecycle_.*)$/.test(k)),
  ),
  ...extra,
});

const tmp = mkdtempSync(join(tmpdir(), 'scimcast-pack-'));
/** Where the tarball is installed, as into a new project. */
const project = join(tmp, 'project');
const dataDir = join(tmp, 'data');
const children: ChildProcess[] = [];
let packed: { filename: string; files: { path: string }[] };

beforeAll(async () => {
  // As root, the embedded PostgreSQL runs as the `postgres` user, which must reach its binaries
  // under node_modules/ (mkdtemp makes 0700 directories).
  chmodSync(tmp, 0o755);
  const pack = await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: ROOT, env: userEnv(), maxBuffer: 64 << 20, timeout: 180_000 });
  packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!;

  mkdirSync(project, { mode: 0o755 });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-scimcast', version: '1.0.0', private: true }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(tmp, packed.filename)], {
    cwd: project,
    env: userEnv(),
    maxBuffer: 64 << 20,
    timeout: 240_000,
  });
}, 480_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of processesUnder(project)) process.kill(pid, 'SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

const exited = (c: ChildProcess) =>
  new Promise<number | null>((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

const argvOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return []; // gone
  }
};

/** The processes whose command line runs something installed in `dir` (Linux /proc). */
function processesUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => pid !== process.pid && argvOf(pid).some((a) => a.startsWith(dir)));
}

/** All processes below `pid` (Linux /proc). */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

describe('the npm pack tarball', () => {
  it('holds the build, the migrations and the command, and no sources or tests', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining(['bin/scimcast.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/index.js', 'drizzle/meta/_journal.json', 'console/index.html', 'console/app.js', 'README.md', 'LICENSE', 'package.json']),
    );
    const migrations = readdirSync(join(ROOT, 'drizzle')).filter((f) => f.endsWith('.sql'));
    expect(migrations.length).toBeGreaterThan(0);
    expect(paths).toEqual(expect.arrayContaining(migrations.map((f) => `drizzle/${f}`)));
    expect(paths.filter((p) => /^(src|test|bench|scripts|spec-examples)\//.test(p) || (p.endsWith('.ts') && !p.endsWith('.d.ts')))).toEqual([]);
  });

  it('installed in an empty project, `npx scimcast start` serves SCIM and stops cleanly when npx gets SIGTERM', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const npx = spawn('npx', ['scimcast', 'start', '--port', String(port)], {
      cwd: project,
      env: userEnv({ SCIMCAST_DATA_DIR: dataDir, LOG_LEVEL: 'warn' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(npx);
    let out = '';
    npx.stdout!.on('data', (d) => (out += d));
    npx.stderr!.on('data', (d) => (out += d));

    let healthy = false;
    for (let i = 0; i < 1200 && !healthy; i++) {
      if (npx.exitCode !== null) throw new Error(`npx scimcast start exited early:\n${out}`);
      healthy = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      if (!healthy) await new Promise((r) => setTimeout(r, 100));
    }
    expect(healthy, out).toBe(true);
    // The token is printed once the server listens; give the pipe a moment.
    for (let i = 0; i < 50 && !/Initial admin token/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    const token = /Initial admin token[^\n]*\n\n\s+(\S+)/.exec(out)?.[1];
    expect(token, out).toBeDefined();

    const created = await fetch(`${base}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'from-the-tarball' }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { userName: string }).userName).toBe('from-the-tarball');

    // The console's files come with the package (package.json `files`) and are served from it.
    const page = await fetch(`${base}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self'/);
    expect(await page.text()).toContain('/console/app.js');
    const app = await fetch(`${base}/console/app.js`);
    expect(app.status).toBe(200);
    expect(app.headers.get('content-type')).toMatch(/^text\/javascript/);

    // SIGTERM goes to npx, the process a process manager or container runtime started. npm exits
    // at once without passing it on; the server, launched by npm, sees its launcher go and drains
    // as if it had been signalled itself.
    const server = descendants(npx.pid!).find((pid) => {
      const argv = argvOf(pid);
      return basename(argv[0] ?? '') === 'node' && argv.some((a) => a.endsWith('/.bin/scimcast')) && argv.includes('start');
    });
    expect(server, `no scimcast start process under npx ${npx.pid}`).toBeDefined();
    const stopping = Date.now();
    npx.kill('SIGTERM');
    await exited(npx);
    for (let i = 0; i < 300 && argvOf(server!).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(argvOf(server!), 'the server still runs after npx got SIGTERM').toEqual([]);
    expect(Date.now() - stopping).toBeLessThan(30_000);
    expect(out).not.toMatch(/"level":("error"|"fatal"|50|60)|Error/);
    // A clean stop removes the data directory's runtime file.
    expect(readdirSync(dataDir)).not.toContain('runtime.json');

    // The worker process and the embedded PostgreSQL stopped with it.
    let left = processesUnder(project);
    for (let i = 0; i < 100 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = processesUnder(project);
    }
    expect(left.map((pid) => argvOf(pid).join(' '))).toEqual([]);
  }, 180_000);

  it('is a library plain `node` imports, with its type declarations', async () => {
    const code = `
      import { SetReceiver, BulkClient, parseNdjsonImport } from 'scimcast';
      const receiver = new SetReceiver({ jwks: { keys: [] }, issuer: null, audience: null });
      const judged = await receiver.receive('not-a-set');
      await receiver.close();
      console.log(JSON.stringify({ outcome: judged.outcome, stats: receiver.stats, bulkClient: typeof BulkClient, ndjson: typeof parseNdjsonImport }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: project, env: userEnv(), timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ outcome: 'rejected', stats: { accepted: 0, duplicates: 0, rejected: 1 }, bulkClient: 'function', ndjson: 'function' });

    const installed = JSON.parse(readFileSync(join(project, 'node_modules/scimcast/package.json'), 'utf8')) as { types: string };
    expect(readFileSync(join(project, 'node_modules/scimcast', installed.types), 'utf8')).toContain('SetReceiver');
  }, 60_000);
});
