import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rounds } from '../../src/storage/single-writes.js';
import { useTestApp } from '../helpers/app.js';

/**
 * Member adds that arrive together are written by one statement (storage/single-writes.ts
 * addMembersMany). Each add still gets the answer it would get alone: a group that moved since it
 * was read, or a member that does not exist, fails that add only; a group named twice is written
 * twice, in order.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const t = useTestApp();

describe('several member adds in one statement', () => {
  it('each add keeps its own answer: done, moved, missing, already a member, a group named twice', async () => {
    const mk = async (path: string, body: Record<string, unknown>) => (await t.req('POST', path, body)).json().id as string;
    const [a, b, c, d, e] = await Promise.all(['A', 'B', 'C', 'D', 'E'].map((n) => mk('/scim/v2/Groups', { schemas: [GROUP], displayName: `batch-${n}` })));
    const [u1, u2, u3, u4] = await Promise.all([1, 2, 3, 4].map((n) => mk('/scim/v2/Users', { schemas: [USER], userName: `batch.user.${n}` })));
    const writes = t.deps.provisioning.storage.writes;
    // D already has u1: adding it again changes nothing.
    expect(await writes.addMembers({ groupId: d!, version: 1, memberIds: [u1!], lastModified: new Date(), changes: [] })).toEqual({ kind: 'done', added: 1, version: 2 });
    const ghost = randomUUID();
    const at = new Date('2026-01-02T03:04:05.678Z');
    const results = await writes.addMembersMany([
      { groupId: a!, version: 1, memberIds: [u1!], lastModified: at, changes: [] },
      { groupId: b!, version: 7, memberIds: [u1!], lastModified: at, changes: [] },
      { groupId: c!, version: 1, memberIds: [u2!, ghost], lastModified: at, changes: [] },
      { groupId: a!, version: 1, memberIds: [u2!], lastModified: at, changes: [] },
      { groupId: a!, version: 2, memberIds: [u3!], lastModified: at, changes: [] },
      { groupId: d!, version: 2, memberIds: [u1!], lastModified: at, changes: [] },
      { groupId: e!, version: 1, memberIds: [u3!, u4!], displays: new Map([[u4!, 'Sent Display']]), lastModified: at, changes: [] },
    ]);
    expect(results).toEqual([
      { kind: 'done', added: 1, version: 2 },
      { kind: 'moved' },
      { kind: 'missing', missing: [ghost] },
      // Second round: A is at version 2 now, so the add read at version 1 moved, and the one read at 2 lands.
      { kind: 'moved' },
      { kind: 'done', added: 1, version: 3 },
      { kind: 'done', added: 0, version: undefined },
      { kind: 'done', added: 2, version: 2 },
    ]);
    const rows = await t.database.pool.query<{ group_id: string; member_id: string; display: string | null }>(
      `select group_id::text, member_id::text, display from group_members where group_id = any($1::uuid[]) order by group_id, seq`,
      [[a, b, c, d, e]],
    );
    const of = (g: string) => rows.rows.filter((r) => r.group_id === g).map((r) => [r.member_id, r.display]);
    expect(of(a!)).toEqual([
      [u1, null],
      [u3, null],
    ]);
    expect(of(b!)).toEqual([]);
    expect(of(c!)).toEqual([]);
    expect(of(d!)).toEqual([[u1, null]]);
    expect(of(e!)).toEqual([
      [u3, null],
      [u4, 'Sent Display'],
    ]);
    const versions = await t.database.pool.query<{ id: string; version: number; last_modified: Date }>(`select id::text, version, last_modified from resources where id = any($1::uuid[])`, [[a, c, d, e]]);
    const v = new Map(versions.rows.map((r) => [r.id, r]));
    expect([a, c, d, e].map((g) => v.get(g!)!.version)).toEqual([3, 1, 2, 2]);
    expect(v.get(e!)!.last_modified.toISOString()).toBe(at.toISOString());
  });

  it('rounds: a group named again waits for the next round; the order within a round is kept', () => {
    expect(rounds([{ groupId: 'a' }, { groupId: 'b' }, { groupId: 'a' }, { groupId: 'c' }, { groupId: 'a' }, { groupId: 'b' }])).toEqual([[0, 1, 3], [2, 5], [4]]);
    expect(rounds([])).toEqual([]);
  });
});
