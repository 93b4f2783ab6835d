import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImportJournal, replayJournal } from '../../../src/client/bulk-journal.js';

const URL = 'http://127.0.0.1:8080/scim/v2';
const lines = (...recs: unknown[]) => recs.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('import journal', () => {
  it('replays to the last known state of each item', () => {
    const s = replayJournal(
      lines(
        { v: 1, url: URL },
        { sent: [['u1', 'POST'], ['u2', 'POST'], ['g1', 'POST']] },
        { x: 'u1', s: 'done', id: 'id1', o: 'created' },
        { x: 'g1', s: 'written', id: 'gid', o: 'created' },
        { sent: [['g1', 'PUT']] },
        { x: 'u3', s: 'failed', r: 'bad' },
        { txn: 't1', loc: `${URL}/AsyncRequests/t1`, ops: [['u4', 'POST']] },
        { txn: 't2', loc: `${URL}/AsyncRequests/t2`, ops: [['u5', 'POST']] },
        { txnDone: 't1' },
      ),
      URL,
      'j',
    );
    expect(Object.fromEntries(s.items)).toEqual({
      u1: { state: 'done', id: 'id1', outcome: 'created' },
      u2: { state: 'sent', method: 'POST', id: undefined, outcome: undefined },
      g1: { state: 'written', id: 'gid', outcome: 'created' },
      u3: { state: 'failed', id: undefined, outcome: undefined },
    });
    expect(s.pendingTxns.map((t) => t.txn)).toEqual(['t2']);
  });

  it('ignores a torn last line and refuses a journal of another server', () => {
    const text = lines({ v: 1, url: URL }, { x: 'u1', s: 'done', id: 'a' }) + '{"x":"u2","s":"do';
    expect(replayJournal(text, URL, 'j').items.size).toBe(1);
    expect(() => replayJournal(text, 'http://other/scim/v2', 'j')).toThrow(/journal of an import into http:\/\/127.0.0.1:8080\/scim\/v2/);
    expect(() => replayJournal('garbage\n' + lines({ v: 1, url: URL }), URL, 'j')).toThrow(/line 1 is not JSON/);
  });

  it('cuts a torn last line before appending, and one journal is used by one run at a time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const path = join(dir, 'import.journal.ndjson');
    writeFileSync(path, lines({ v: 1, url: URL }) + '{"x":"u1","s":"do');
    const { journal } = ImportJournal.open(path, URL);
    expect(() => ImportJournal.open(path, URL)).toThrow(/is in use by process/);
    journal.sent([['u2', 'POST']]);
    journal.close();
    expect(readFileSync(path, 'utf8').split('\n').slice(1)).toEqual(['{"sent":[["u2","POST"]]}', '']);
    // A lock left by a dead process is taken over.
    writeFileSync(`${path}.lock`, '999999999');
    ImportJournal.open(path, URL).journal.close();
  });
});
