/**
 * Group commit for independent writes of one process: items submitted while a batch is being
 * written wait and go together in the next one, one statement and one durable commit for all of
 * them. Under no load an item is written at once, alone (nothing waits for a timer); under load the
 * batches grow by themselves to what arrives during one commit.
 *
 * Each item keeps its own result. A batch that fails as a whole is written again item by item, so
 * that one bad item fails alone and never takes the others with it: a failed statement changed
 * nothing (a statement is atomic), so writing its items again is safe.
 *
 * No I/O here: `write` does it. @see docs/decisions/0002-group-commit.md
 */
export interface GroupCommitOptions {
  /** The most items in one batch (one statement's parameters stay bounded). */
  readonly maxBatch: number;
  /** Batches written at the same time. */
  readonly maxInFlight: number;
}

interface Waiting<T, R> {
  readonly item: T;
  readonly resolve: (r: R) => void;
  readonly reject: (e: unknown) => void;
}

/** `write` gets a batch and answers one result per item, in order. */
export function makeGroupCommit<T, R>(write: (items: readonly T[]) => Promise<readonly R[]>, opts: GroupCommitOptions): (item: T) => Promise<R> {
  if (!(opts.maxBatch >= 1 && opts.maxInFlight >= 1)) throw new RangeError('maxBatch and maxInFlight must be at least 1');
  const queue: Waiting<T, R>[] = [];
  let inFlight = 0;

  const writeAlone = async (w: Waiting<T, R>) => {
    try {
      const [r] = await write([w.item]);
      w.resolve(r as R);
    } catch (e) {
      w.reject(e);
    }
  };

  const writeBatch = async (batch: Waiting<T, R>[]) => {
    if (batch.length === 1) return writeAlone(batch[0]!);
    let results: readonly R[];
    try {
      results = await write(batch.map((w) => w.item));
    } catch {
      // Which item failed is unknown; each is written again on its own and gets its own answer.
      await Promise.all(batch.map(writeAlone));
      return;
    }
    if (results.length !== batch.length) {
      const e = new Error(`group commit: ${results.length} results for ${batch.length} items`);
      for (const w of batch) w.reject(e);
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]!));
  };

  const pump = () => {
    while (inFlight < opts.maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, opts.maxBatch);
      inFlight++;
      void writeBatch(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  };

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      pump();
    });
}
