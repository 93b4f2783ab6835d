import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

/** The README's own examples, read from README.md itself so that the two cannot drift apart. */
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The `-d '…'` bodies from `heading` (a section title or a comment in a block) to the end of the block that follows. */
function bodiesAfter(heading: string): unknown[] {
  const from = README.indexOf(heading);
  if (from < 0) throw new Error(`README has no "${heading}"`);
  const rest = README.slice(from);
  const firstBody = rest.indexOf("-d '");
  const text = rest.slice(0, rest.indexOf('```', firstBody));
  return [...text.matchAll(/-d '([\s\S]*?)'/g)].map((m) => JSON.parse(m[1]!));
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('README examples', () => {
  it('the PATCH example applies to the Quick start user as written', async () => {
    const [user] = bodiesAfter('# create a user');
    const created = await t.req('POST', '/scim/v2/Users', user);
    expect(created.statusCode, created.body).toBe(201);
    const [patch] = bodiesAfter('## PATCH');
    const res = await t.req('PATCH', `/scim/v2/Users/${created.json().id}`, patch);
    expect(res.statusCode, res.body).toBe(200);
    const after = res.json();
    expect(after.name.givenName).toBe('Barb');
    expect(after.phoneNumbers).toEqual([{ value: '+1 555 0100', type: 'work' }]);
    expect(after.emails).toEqual([{ value: 'barbara.jensen@example.com', type: 'work', primary: true }]);
    expect(after['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].department).toBe('Tour Operations');
  });
});
