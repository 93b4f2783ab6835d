import { describe, expect, it } from 'vitest';
import { makeRecentGroups } from '../../../src/provisioning/recent-groups.js';
import type { ResourceRow } from '../../../src/storage/index.js';

const at = new Date('2026-01-01T00:00:00Z');
const row = (id: string, version = 1): ResourceRow => ({ id, resourceType: 'Group', userName: null, externalId: null, displayName: id, active: null, doc: {}, version, created: at, lastModified: at });

describe('the groups a process last wrote', () => {
  it('a hint serves one attempt: take returns it once', () => {
    const recent = makeRecentGroups();
    recent.remember(row('a', 3));
    expect(recent.take('a')?.version).toBe(3);
    expect(recent.take('a')).toBeUndefined();
  });

  it('the latest write of a group replaces the earlier one', () => {
    const recent = makeRecentGroups();
    recent.remember(row('a', 3));
    recent.remember(row('a', 4));
    expect(recent.take('a')?.version).toBe(4);
  });

  it('holds at most its capacity, dropping the group written longest ago', () => {
    const recent = makeRecentGroups(2);
    recent.remember(row('a'));
    recent.remember(row('b'));
    recent.remember(row('a', 2));
    recent.remember(row('c'));
    expect(recent.take('b')).toBeUndefined();
    expect(recent.take('a')?.version).toBe(2);
    expect(recent.take('c')).toBeDefined();
  });
});
