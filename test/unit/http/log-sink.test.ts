import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchedSink } from '../../../src/http/log-sink.js';

const ROOT = join(import.meta.dirname, '../../..');
const turn = () => new Promise<void>((r) => setImmediate(r));

function recorder() {
  const writes: string[] = [];
  let atExit: (() => void) | undefined;
  const sink = batchedSink({ write: (t) => void writes.push(t), later: (fn) => void setImmediate(fn), atExit: (fn) => void (atExit = fn) }, 100);
  return { sink, writes, exit: () => atExit?.() };
}

/** A node process running `code` (an ES module that may import src/ through tsx); its stdout as it arrives. */
function child(code: string) {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => void (out += c.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, out: () => out, exited };
}

describe('the request logger writes each turn of the event loop in one write', () => {
  it('joins the lines of one turn, in order, and writes them at the end of that turn', async () => {
    const { sink, writes } = recorder();
    sink.write('a\n');
    sink.write('b\n');
    expect(writes).toEqual([]);
    await turn();
    expect(writes).toEqual(['a\nb\n']);
    sink.write('c\n');
    await turn();
    expect(writes).toEqual(['a\nb\n', 'c\n']);
  });

  it('writes at once when a batch grows past its bound, and what is left when the process exits', async () => {
    const { sink, writes, exit } = recorder();
    sink.write(`${'x'.repeat(60)}\n`);
    sink.write(`${'y'.repeat(60)}\n`);
    expect(writes).toHaveLength(1);
    sink.write('last\n');
    exit();
    expect(writes).toEqual([`${'x'.repeat(60)}\n${'y'.repeat(60)}\n`, 'last\n']);
    await turn();
    expect(writes).toHaveLength(2);
  });

  it("a line logged just before an uncaught exception still reaches stdout", async () => {
    const c = child(`import { stdoutSink } from './src/http/log-sink.ts'; stdoutSink().write('{"msg":"the last line"}\\n'); throw new Error('crash');`);
    expect(await c.exited).not.toBe(0);
    expect(c.out()).toBe('{"msg":"the last line"}\n');
  }, 30_000);

  it('a quiet process writes its line at once, without waiting for more', async () => {
    const c = child(`import { stdoutSink } from './src/http/log-sink.ts'; stdoutSink().write('{"msg":"alone"}\\n'); setInterval(() => {}, 1000);`);
    try {
      const deadline = Date.now() + 20_000;
      while (!c.out().includes('alone') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(c.out()).toBe('{"msg":"alone"}\n');
    } finally {
      c.proc.kill('SIGKILL');
      await c.exited;
    }
  }, 30_000);
});
