import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { alive, call, CHILD_TOKEN, killAll, newDataDir, removeDataDirs, spawnScimcast, startWithDataDir, type StartProc } from '../helpers/procs.js';
import { until } from '../helpers/receiver.js';

/**
 * `scimcast start` with SCIMCAST_API_PROCESSES=2: two API processes serve the one port beside the
 * worker process, around the embedded PostgreSQL the first process owns. Both answer requests,
 * /metrics counts the requests of both, a token revoked is refused by both, an API process killed
 * with SIGKILL is replaced while the other serves, and SIGTERM (or the first process's death)
 * leaves no process behind.
 */
afterAll(async () => {
  await killAll();
  removeDataDirs();
});

/** CPU time (user + system) a process has used, in clock ticks. */
const cpuTicks = (pid: number) => {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};

interface Started extends StartProc {
  readonly apiPids: number[];
}

async function start(): Promise<Started> {
  // LOG_LEVEL=info: the test follows the processes through the command's own info lines.
  const p = await startWithDataDir(newDataDir('scimcast-apis-'), { SCIMCAST_API_PROCESSES: '2', LOG_LEVEL: 'info' }, { ready: /scimcast listening on/ });
  const m = /2 API processes \(pids (\d+), (\d+)\) listening on/.exec(p.output());
  expect(m, p.output()).not.toBeNull();
  expect(p.output()).toMatch(/scimcast listening on \S+ \(2 API processes\)/);
  return { ...p, apiPids: [Number(m![1]), Number(m![2])] };
}

/** `count` GETs of /Users with `token`, 16 at a time (so on several connections); their statuses. */
async function burst(base: string, count: number, token = CHILD_TOKEN): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next++ < count) statuses.push((await call(base, 'GET', '/scim/v2/Users?count=1', undefined, { authorization: `Bearer ${token}` })).status);
    }),
  );
  return statuses;
}

const cli = async (dataDir: string, args: string[]) => {
  const p = spawnScimcast([...args, '--data-dir', dataDir], { DATABASE_URL: '', BASE_URL: '' });
  expect(await p.exited, p.output()).toBe(0);
  return p.output();
};

describe('scimcast start with SCIMCAST_API_PROCESSES=2', () => {
  it('serves from both API processes, counts and revokes across them, replaces a killed one, and stops all with SIGTERM', async () => {
    const s = await start();
    onTestFailed(() => console.error(s.output()));
    const [a, b] = s.apiPids as [number, number];
    expect(new Set([s.pid, a, b]).size).toBe(3);
    expect(alive(a) && alive(b)).toBe(true);
    const worker = Number(/worker process (\d+) started/.exec(s.output())![1]);
    expect([s.pid, a, b]).not.toContain(worker);

    // Both processes serve: each one's CPU time grows under a burst (connections go round robin).
    const before = [cpuTicks(a), cpuTicks(b)];
    const statuses = await burst(s.base, 400);
    expect(statuses.filter((x) => x === 200)).toHaveLength(400);
    const used = [cpuTicks(a) - before[0]!, cpuTicks(b) - before[1]!];
    expect(Math.min(...used), `CPU ticks used by the API processes: ${used.join(', ')}`).toBeGreaterThanOrEqual(3);

    // /metrics, answered by either process, sums the requests of both.
    const metrics = await call(s.base, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    const served = /scimcast_http_requests_total\{method="GET",route="\/scim\/v2\/Users",status="200"\} (\d+)/.exec(metrics.text);
    expect(Number(served?.[1]), metrics.text).toBe(400);

    // A token cached by both processes is refused by both once revoked.
    const token = (await cli(s.dataDir, ['token', 'create', '--scopes', 'scim:read', '--name', 'two-procs'])).trim().split('\n').at(-1)!;
    expect(new Set(await burst(s.base, 64, token))).toEqual(new Set([200]));
    const id = (await cli(s.dataDir, ['token', 'list'])).split('\n').find((l) => l.includes('\ttwo-procs\t'))!.split('\t')[0]!;
    await cli(s.dataDir, ['token', 'revoke', id]);
    // NOTIFY reaches both at once; SCIMCAST_TOKEN_CACHE_TTL_MS (5 s) is the bound, plus margin.
    await until(async () => (await burst(s.base, 32, token)).every((x) => x === 401), 8_000);
    expect(new Set(await burst(s.base, 64, token))).toEqual(new Set([401]));

    // A killed API process is replaced; the other keeps serving meanwhile.
    process.kill(a, 'SIGKILL');
    await until(async () => (await burst(s.base, 8).catch(() => [0])).every((x) => x === 200), 10_000);
    await until(() => new RegExp(`API process ${a} exited \\(signal SIGKILL\\); starting a new one in \\d+ ms`).test(s.output()), 10_000);
    await until(() => /API process (\d+) started/.test(s.output()), 30_000);
    const replacement = Number(/API process (\d+) started/.exec(s.output())![1]);
    expect([a, b, s.pid, worker]).not.toContain(replacement);
    expect(alive(replacement)).toBe(true);
    expect(alive(a)).toBe(false);
    const again = [cpuTicks(replacement), cpuTicks(b)];
    expect((await burst(s.base, 400)).every((x) => x === 200)).toBe(true);
    expect(cpuTicks(replacement) - again[0]!).toBeGreaterThanOrEqual(3);

    s.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    for (const pid of [replacement, b, worker, s.postmasterPid]) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(existsSync(join(s.dataDir, 'pgdata', 'postmaster.pid'))).toBe(false);
  }, 240_000);

  it('when the first process is killed, the API processes, the worker and the embedded PostgreSQL stop', async () => {
    const s = await start();
    onTestFailed(() => console.error(s.output()));
    const worker = Number(/worker process (\d+) started/.exec(s.output())![1]);
    s.kill('SIGKILL');
    await s.exited;
    await until(() => [...s.apiPids, worker, s.postmasterPid].every((pid) => !alive(pid)), 60_000);
    await expect(fetch(`${s.base}/healthz`)).rejects.toThrow();
  }, 240_000);
});
