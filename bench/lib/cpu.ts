import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds used so far by each part of the machine's work that the bench can name. */
export interface CpuSample {
  api: number;
  worker: number;
  postgres: number;
  receiver: number;
  bench: number;
}

const TICKS = 100; // USER_HZ on Linux

interface Stat {
  pid: number;
  ppid: number;
  comm: string;
  seconds: number;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces; the fields after it are space-separated.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const f = text.slice(close + 2).split(' ');
    return { pid, ppid: Number(f[1]), comm, seconds: (Number(f[11]) + Number(f[12])) / TICKS };
  } catch {
    return undefined; // exited meanwhile
  }
}

/**
 * Per-process CPU (utime + stime from /proc) of `scimcast start` (`apiPid`) and its descendants:
 * the worker process (node), the embedded PostgreSQL (every postgres process), plus the receiver
 * and this process. Backends that exit between two samples lose their time, so compare samples
 * taken around a window in which the pools keep their connections.
 */
export function sampleCpu(apiPid: number, receiverPid: number | undefined): CpuSample {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => stat(Number(d)))
    .filter((s): s is Stat => s !== undefined);
  const children = new Map<number, Stat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const out: CpuSample = { api: 0, worker: 0, postgres: 0, receiver: 0, bench: 0 };
  const walk = (s: Stat) => {
    if (s.pid === apiPid) out.api += s.seconds;
    else if (s.comm.startsWith('postgres')) out.postgres += s.seconds;
    else out.worker += s.seconds;
    for (const c of children.get(s.pid) ?? []) walk(c);
  };
  const root = all.find((s) => s.pid === apiPid);
  if (root) walk(root);
  const rec = receiverPid === undefined ? undefined : all.find((s) => s.pid === receiverPid);
  out.receiver = rec?.seconds ?? 0;
  const own = process.cpuUsage();
  out.bench = (own.user + own.system) / 1e6;
  return out;
}

export function cpuBetween(a: CpuSample, b: CpuSample): CpuSample {
  return { api: b.api - a.api, worker: b.worker - a.worker, postgres: b.postgres - a.postgres, receiver: b.receiver - a.receiver, bench: b.bench - a.bench };
}
