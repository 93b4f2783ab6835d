/**
 * The seeded user population, defined once: scimcast gets it as SQL rows (seed.ts), the SCIMMY
 * peer as in-memory objects (baselines/scimmy-server.ts). Same shape as a POST /Users body, which
 * is what scimcast stores in `doc` (everything but id and meta).
 */
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

export const seedUserName = (i: number) => `seed-${i}`;
export const seedEmail = (i: number) => `seed-${i}@example.com`;

export function seedUserDoc(i: number) {
  return {
    schemas: [USER_SCHEMA],
    userName: seedUserName(i),
    externalId: `ext-${i}`,
    name: { givenName: 'Given', familyName: `Family${i}` },
    emails: [{ value: seedEmail(i), type: 'work', primary: true }],
    active: true,
  };
}

/** A create body for the load scenarios: the same shape, with a name nobody else uses. */
export function createBody(tag: string, i: number) {
  return {
    schemas: [USER_SCHEMA],
    userName: `${tag}-${i}`,
    externalId: `${tag}-e${i}`,
    name: { givenName: 'Given', familyName: `Family${i}` },
    emails: [{ value: `${tag}-${i}@example.com`, type: 'work', primary: true }],
    active: true,
  };
}

/** The SQL twin of seedUserDoc for row number `i` (an integer SQL expression). */
export const seedUserDocSql = (i: string) => `jsonb_build_object(
  'schemas', jsonb_build_array('${USER_SCHEMA}'),
  'userName', 'seed-' || ${i},
  'externalId', 'ext-' || ${i},
  'name', jsonb_build_object('givenName', 'Given', 'familyName', 'Family' || ${i}),
  'emails', jsonb_build_array(jsonb_build_object('value', 'seed-' || ${i} || '@example.com', 'type', 'work', 'primary', true)),
  'active', true)`;
