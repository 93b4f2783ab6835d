import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';

/**
 * The docs' own examples, read from README.md and docs/patch.md themselves so that the docs and
 * the server cannot drift apart: the PATCH page's example targets the Quick start's user.
 */
const read = (path: string) => ({ path, text: readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8') });
const README = read('README.md');
const PATCH_DOC = read('docs/patch.md');

/** The `-d '…'` bodies from `heading` (a section title or a comment in a block) to the end of the block that follows. */
function bodiesAfter(doc: { path: string; text: string }, heading: string): unknown[] {
  const from = doc.text.indexOf(heading);
  if (from < 0) throw new Error(`${doc.path} has no "${heading}"`);
  const rest = doc.text.slice(from);
  const firstBody = rest.indexOf("-d '");
  const text = rest.slice(0, rest.indexOf('```', firstBody));
  return [...text.matchAll(/-d '([\s\S]*?)'/g)].map((m) => JSON.parse(m[1]!));
}

const t = useTestApp();

describe('README and docs/patch.md examples', () => {
  it('the PATCH example applies to the Quick start user as written', async () => {
    const [user] = bodiesAfter(README, '# create a user');
    const created = await t.req('POST', '/scim/v2/Users', user);
    expect(created.statusCode, created.body).toBe(201);
    const [patch] = bodiesAfter(PATCH_DOC, '# PATCH');
    const res = await t.req('PATCH', `/scim/v2/Users/${created.json().id}`, patch);
    expect(res.statusCode, res.body).toBe(200);
    const after = res.json();
    expect(after.name.givenName).toBe('Barb');
    expect(after.phoneNumbers).toEqual([{ value: '+1 555 0100', type: 'work' }]);
    expect(after.emails).toEqual([{ value: 'barbara.jensen@example.com', type: 'work', primary: true }]);
    expect(after['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].department).toBe('Tour Operations');
  });
});
