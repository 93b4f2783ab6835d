/** V8 CPU profiles (node --cpu-prof) of the bench's server processes, summed over a time window. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './processes.js';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}


/** Self time per function and per module, over the samples taken in [from, to] (µs, monotonic). */
export function analyse(p: Profile, from: number, to: number) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const mod = new Map<string, number>();
  let t = p.startTime;
  let inWindow = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < from || t > to) continue;
    const n = byId.get(p.samples[i]!)!;
    const cf = n.callFrame;
    const file = cf.url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '');
    const key = `${cf.functionName || '(anonymous)'} ${file}:${cf.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const m = cf.url === '' ? cf.functionName : (/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? (file.startsWith('node:') ? file.split('/')[0]! : file.startsWith('src/') ? file.split('/').slice(0, 2).join('/') : file));
    mod.set(m, (mod.get(m) ?? 0) + dt);
    inWindow += dt;
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, us]) => `${((us / inWindow) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  return { windowMs: (to - from) / 1000, sampledMs: inWindow / 1000, functions: top(self, 30), modules: top(mod, 20) };
}

/** The profiles written to `dir`, keyed by the writing process's pid (from V8's file name). */
export function profilesIn(dir: string): { pid: number; file: string; profile: Profile }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ pid: Number(f.split('.')[3]), file: join(dir, f), profile: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Profile }));
}

/**
 * The samples in [from, to] whose stack holds a frame matching `inside` (by module path or
 * function name): their share of the sampled time (inclusive time, callees and native writes
 * included), and the self time of their frames, top first.
 */
export function inclusive(p: Profile, from: number, to: number, inside: (cf: ProfileNode['callFrame']) => boolean) {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const hit = new Map<number, boolean>();
  const under = (id: number): boolean => {
    const known = hit.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id)!;
    const up = parent.get(id);
    const v = inside(n.callFrame) || (up !== undefined && under(up));
    hit.set(id, v);
    return v;
  };
  const self = new Map<string, number>();
  let t = p.startTime;
  let all = 0;
  let matched = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < from || t > to) continue;
    const n = byId.get(p.samples[i]!)!;
    if (n.callFrame.functionName === '(idle)') continue;
    all += dt;
    if (!under(n.id)) continue;
    matched += dt;
    const cf = n.callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '')}:${cf.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([name, us]) => `${((us / all) * 100).toFixed(2).padStart(6)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  return { busyMs: all / 1000, matchedMs: matched / 1000, share: all ? matched / all : 0, top };
}
