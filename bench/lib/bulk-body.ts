import { GROUP_SCHEMA, USER_SCHEMA } from './seed-doc.js';

/**
 * The bulk scenario's request: `users` POST /Users, then groups of 10 that name their
 * members by bulkId (RFC 7644 §3.7.2), 10,000 operations in all by default.
 */
export const GROUP_SIZE = 10;

export function bulkShape(ops: number) {
  const groups = Math.floor(ops / (GROUP_SIZE + 1));
  return { users: ops - groups, groups };
}

export function bulkUser(tag: string, i: number) {
  return {
    schemas: [USER_SCHEMA],
    userName: `${tag}-u${i}`,
    externalId: `${tag}-e${i}`,
    name: { givenName: 'Given', familyName: `Family${i}` },
    emails: [{ value: `${tag}-u${i}@example.com`, type: 'work', primary: true }],
  };
}

export function bulkBody(tag: string, ops: number, opts: { groups?: boolean } = {}) {
  const { users, groups } = opts.groups === false ? { users: ops, groups: 0 } : bulkShape(ops);
  const Operations: unknown[] = [];
  for (let i = 0; i < users; i++) Operations.push({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: bulkUser(tag, i) });
  for (let g = 0; g < groups; g++) {
    const members = Array.from({ length: GROUP_SIZE }, (_, k) => ({ value: `bulkId:u${(g * GROUP_SIZE + k) % users}` }));
    Operations.push({ method: 'POST', path: '/Groups', bulkId: `g${g}`, data: { schemas: [GROUP_SCHEMA], displayName: `${tag}-g${g}`, members } });
  }
  return { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations };
}
