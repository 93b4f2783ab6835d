import { writeSync } from 'node:fs';
import type { LogSink } from './log-options.js';

/**
 * Where the request logger writes in a running server: stdout, with the lines of one turn of the
 * event loop joined into one write(2).
 *
 * pino's default destination makes one synchronous write per line, and fastify used to log two
 * lines per request; under load those system calls were the largest part of what logging cost
 * (the profile in BENCHMARKS.md, "Logging cost"). Batching keeps what the synchronous destination
 * guaranteed:
 * - nothing is held back: a batch is written at the end of the turn that produced it (`later`,
 *   setImmediate), so a quiet server writes each line at once and `tail -f` sees it at once;
 * - nothing is lost on a crash: the process's `exit` (process.exit, an uncaught exception) writes
 *   what is left synchronously (`atExit`). Only a SIGKILL or an abort within the same turn can drop
 *   that turn's lines;
 * - memory stays bounded and a stalled reader slows the server as before: a batch larger than
 *   `maxBatch` characters is written at once, and writes block on a full pipe (writeAll).
 */
export interface BatchedSink extends LogSink {
  /** Write what is pending now. */
  flush(): void;
}

export function batchedSink(io: { write(text: string): void; later(fn: () => void): void; atExit(fn: () => void): void }, maxBatch = 64 * 1024): BatchedSink {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === '') return;
    const text = pending;
    pending = '';
    io.write(text);
  };
  io.atExit(flush);
  return {
    write(line) {
      pending += line;
      if (pending.length >= maxBatch) flush();
      else if (!scheduled) {
        scheduled = true;
        io.later(flush);
      }
    },
    flush,
  };
}

/** Process stdout through the batched sink. One per process: every logger shares its batch. */
let stdout: BatchedSink | undefined;
export function stdoutSink(): BatchedSink {
  stdout ??= batchedSink({ write: (text) => writeAll(1, text), later: (fn) => void setImmediate(fn), atExit: (fn) => void process.once('exit', fn) });
  return stdout;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * All of `text` to `fd`, synchronously. Once node has opened stdout as a pipe it is non-blocking:
 * a full pipe answers EAGAIN or takes part of the write. Wait briefly and go on, as pino's
 * synchronous destination (sonic-boom) does: the line is never dropped.
 */
export function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}
