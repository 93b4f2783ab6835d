import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';

/**
 * Where accepted SETs go, one JSON document per line (NDJSON). RFC 9967 §5: a receiver
 * persists a SET before acknowledging it, so `flush` resolves only when the lines are durable
 * (fdatasync for a file; handed to the OS for a stream).
 */
export interface SetOutput {
  write(record: object): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** jtis already written by an earlier run, newest last (de-duplication across restarts). */
  knownJtis?(limit: number): Promise<string[]>;
}

/** Append to a file, creating it; earlier lines are kept and their jtis remembered. */
export async function ndjsonFile(path: string): Promise<SetOutput> {
  const fh: FileHandle = await open(path, 'a+');
  // A run killed mid-line leaves a torn last line: start on a fresh one so the next record parses.
  const { size } = await fh.stat();
  if (size > 0) {
    const last = Buffer.alloc(1);
    await fh.read(last, 0, 1, size - 1);
    if (last[0] !== 0x0a) await fh.write('\n');
  }
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => {});
    return p;
  };
  return {
    write: (record) => serial(async () => void (await fh.write(`${JSON.stringify(record)}\n`))),
    flush: () => serial(() => fh.datasync()),
    close: () => serial(() => fh.close()),
    knownJtis: (limit) => readJtis(path, limit),
  };
}

/** Write to a stream such as stdout; each write waits for the stream to take the line (backpressure). */
export function ndjsonStream(stream: Writable): SetOutput {
  return {
    write: (record) =>
      new Promise<void>((resolve, reject) => {
        stream.write(`${JSON.stringify(record)}\n`, (e) => (e ? reject(e) : resolve()));
      }),
    flush: async () => {},
    close: async () => {},
  };
}

/** The `jti`s of the last `limit` lines of an NDJSON file; a missing file has none, a torn line is skipped. */
export async function readJtis(path: string, limit = Infinity): Promise<string[]> {
  let out: string[] = [];
  const input = createReadStream(path, { encoding: 'utf8' });
  try {
    const lines = createInterface({ input, crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      try {
        const jti = (JSON.parse(line) as { jti?: unknown }).jti;
        if (typeof jti === 'string') out.push(jti);
        if (out.length >= 2 * limit) out = out.slice(-limit);
      } catch {
        // A line cut short by a crash is not a record; the SET was not acknowledged either.
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  } finally {
    input.destroy();
  }
  return out.slice(-limit);
}
