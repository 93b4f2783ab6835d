import { describe, expect, it } from 'vitest';
import { makeGroupCommit } from '../../../src/core/group-commit.js';

function gate() {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return { done, open };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('group commit: writes that arrive during a commit share the next one', () => {
  it('writes a lone item at once, and batches what arrives while a write is in flight', async () => {
    const batches: number[][] = [];
    const gates: ReturnType<typeof gate>[] = [];
    const submit = makeGroupCommit<number, string>(
      async (items) => {
        batches.push([...items]);
        const g = gate();
        gates.push(g);
        await g.done;
        return items.map((i) => `ok ${i}`);
      },
      { maxBatch: 3, maxInFlight: 1 },
    );
    const first = submit(0);
    await tick();
    expect(batches).toEqual([[0]]);
    const rest = [1, 2, 3, 4].map(submit);
    await tick();
    expect(batches).toEqual([[0]]);
    gates[0]!.open();
    await tick();
    // Arrival order kept, at most maxBatch per write.
    expect(batches).toEqual([[0], [1, 2, 3]]);
    gates[1]!.open();
    await tick();
    expect(batches).toEqual([[0], [1, 2, 3], [4]]);
    gates[2]!.open();
    expect(await Promise.all([first, ...rest])).toEqual(['ok 0', 'ok 1', 'ok 2', 'ok 3', 'ok 4']);
  });

  it('a batch that fails is written again item by item: the bad item fails alone, the others succeed', async () => {
    const writes: number[][] = [];
    const hold = gate();
    const submit = makeGroupCommit<number, number>(
      async (items) => {
        writes.push([...items]);
        await hold.done;
        if (items.includes(13)) throw new Error('13 is refused');
        return items.map((i) => i * 2);
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const first = submit(1);
    await tick();
    const batch = [12, 13, 14].map((i) => submit(i).then((v) => ({ ok: v }), (e: Error) => ({ err: e.message })));
    hold.open();
    expect(await first).toBe(2);
    expect(await Promise.all(batch)).toEqual([{ ok: 24 }, { err: '13 is refused' }, { ok: 28 }]);
    expect(writes).toEqual([[1], [12, 13, 14], [12], [13], [14]]);
  });

  it('never writes more than maxInFlight batches at once', async () => {
    let inFlight = 0;
    let most = 0;
    const submit = makeGroupCommit<number, number>(
      async (items) => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        return items;
      },
      { maxBatch: 4, maxInFlight: 2 },
    );
    const out = await Promise.all(Array.from({ length: 50 }, (_, i) => submit(i)));
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(most).toBe(2);
  });
});
