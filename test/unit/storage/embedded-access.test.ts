import { describe, expect, it } from 'vitest';
import { blockedAncestor, canTraverse, type DirStat } from '../../../src/storage/embedded-access.js';

const postgres = { uid: 100, gids: [101] };
const dir = (mode: number, uid = 0, gid = 0): DirStat => ({ mode: 0o040000 | mode, uid, gid });

describe('whether the OS user postgres can enter a directory', () => {
  it('uses the owner, group or other search bit, whichever class the user falls in', () => {
    expect(canTraverse(dir(0o755), postgres)).toBe(true);
    expect(canTraverse(dir(0o700), postgres)).toBe(false);
    expect(canTraverse(dir(0o710, 0, 101), postgres)).toBe(true);
    expect(canTraverse(dir(0o701, 0, 101), postgres)).toBe(false); // in the group: the group bit decides
    expect(canTraverse(dir(0o700, 100, 0), postgres)).toBe(true);
  });

  it('names the first parent of the data directory that it cannot enter', () => {
    const modes: Record<string, DirStat> = { '/': dir(0o755), '/root': dir(0o700), '/root/app': dir(0o755) };
    expect(blockedAncestor('/root/app/.scimcast', postgres, (p) => modes[p]!)).toBe('/root');
    expect(blockedAncestor('/srv/.scimcast', postgres, () => dir(0o755))).toBeUndefined();
  });
});
