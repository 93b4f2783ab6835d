import { describe, expect, it } from 'vitest';
import type { ImportProgress } from '../../../src/client/bulk-client.js';
import { progressPrinter } from '../../../src/client/bulk-progress.js';

const at = (settled: number, over: Partial<ImportProgress> = {}): ImportProgress => ({
  total: 1000,
  settled,
  created: settled,
  updated: 0,
  failed: 0,
  inFlight: 2,
  requests: 3,
  retries: 0,
  stage: 'writing',
  ...over,
});

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => out.push(s) } };
}

describe('import progress on stderr', () => {
  it('not a terminal: one plain line per 10 %, and the last one', () => {
    const { out, stream } = sink(false);
    const p = progressPrinter(stream);
    for (let s = 0; s <= 1000; s += 25) p.update(at(s, s === 1000 ? { stage: 'finished', inFlight: 0 } : {}));
    p.end();
    expect(out).toHaveLength(11);
    expect(out.every((l) => l.startsWith('progress: ') && l.endsWith('\n'))).toBe(true);
    expect(out.at(-1)).toMatch(/^progress: 100%  1,000\/1,000  created 1,000, updated 0, failed 0  \(3 requests, 0 in flight\), \d+\.\d s\n$/);
  });

  it('says how many requests were retried once there are any', () => {
    const { out, stream } = sink(false);
    progressPrinter(stream).update(at(500, { retries: 7, requests: 40 }));
    expect(out[0]).toContain('(40 requests, 7 retried, 2 in flight)');
  });

  it('a terminal: a bar redrawn in place, cleared at the end so the report starts on a clean line', () => {
    const { out, stream } = sink(true);
    const p = progressPrinter(stream);
    p.update(at(0, { stage: 'checking' }));
    p.update(at(1000, { stage: 'finished' }));
    p.end();
    expect(out[0]).toMatch(/^\r\x1b\[K\[\.{24}\]   0%  0\/1,000 .* checking existing externalIds…$/);
    expect(out[1]).toMatch(/^\r\x1b\[K\[#{24}\] 100%  1,000\/1,000 /);
    expect(out.at(-1)).toBe('\r\x1b[K');
    expect(out.join('')).not.toContain('\n');
  });
});
