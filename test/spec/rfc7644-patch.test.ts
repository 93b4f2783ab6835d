import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';
import { specExample } from '../helpers/spec-examples.js';

/**
 * RFC 7644 §3.5.2 PATCH examples replayed over HTTP. Each example's starting resource is created
 * first (the RFC does not show it; what it implies is built here), the RFC's ids are replaced by
 * the ids the server assigned, and the result is read back with GET.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const BABS = '2819c223-7f76-453a-919d-413861904646';
const JAMES = '08e1d05d-121c-4561-8b96-473d93df9210';
const GROUP_ID = 'acbf3ae7-8463-4692-b4fd-9b4da3f908ce';

const t = useTestApp();

interface Example {
  method: string;
  path: string;
  body: unknown;
}

let seq = 0;
async function post(path: string, body: Record<string, unknown>) {
  const res = await t.req('POST', `/scim/v2${path}`, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string };
}

/** Sends the example with the RFC ids replaced; returns the resource afterwards. */
async function replay(file: string, ids: Record<string, string>) {
  const ex = specExample<Example>(`rfc7644/${file}`).example;
  let text = JSON.stringify(ex);
  for (const [from, to] of Object.entries(ids)) text = text.split(from).join(to);
  const sub = JSON.parse(text) as Example;
  const res = await t.req(sub.method, `/scim/v2${sub.path}`, sub.body);
  expect(res.statusCode, res.body).toBeLessThan(300);
  return (await t.req('GET', `/scim/v2${sub.path}`)).json();
}

async function groupWith(members: string[]) {
  const babs = await post('/Users', { schemas: [USER], userName: `babs-${++seq}`, displayName: 'Babs Jensen' });
  const james = await post('/Users', { schemas: [USER], userName: `james-${seq}`, displayName: 'James Smith' });
  const idOf = { [BABS]: babs.id, [JAMES]: james.id } as Record<string, string>;
  const g = await post('/Groups', { schemas: [GROUP], displayName: `Tour Guides ${seq}`, members: members.map((m) => ({ value: idOf[m] })) });
  return { ids: { ...idOf, [GROUP_ID]: g.id }, babs: babs.id, james: james.id };
}

const memberIds = (g: { members: { value: string }[] }) => g.members.map((m) => m.value);

describe('RFC 7644 §3.5.2 PATCH examples', () => {
  it('§3.5.2.1 add a member to a group', async () => {
    const s = await groupWith([]);
    expect(memberIds(await replay('3.5.2.1-add-member.json', s.ids))).toEqual([s.babs]);
  });

  it('§3.5.2.1 add emails and nickname without a path', async () => {
    const u = await post('/Users', { schemas: [USER], userName: `bjensen-${++seq}`, emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }] });
    const got = await replay('3.5.2.1-add-without-path.json', { [BABS]: u.id });
    expect(got.emails).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ]);
    expect(got.nickName).toBe('Babs');
  });

  it('§3.5.2.2 remove a single member', async () => {
    const s = await groupWith([BABS, JAMES]);
    expect(memberIds(await replay('3.5.2.2-remove-member.json', s.ids))).toEqual([s.james]);
  });

  it('§3.5.2.2 remove all members', async () => {
    const s = await groupWith([BABS, JAMES]);
    // RFC 7643 §2.5: a group without members has no `members` attribute.
    expect(await replay('3.5.2.2-remove-all-members.json', s.ids)).not.toHaveProperty('members');
  });

  it('§3.5.2.2 remove the work emails that end in example.com', async () => {
    const u = await post('/Users', {
      schemas: [USER],
      userName: `bj-${++seq}`,
      emails: [
        { value: 'bjensen@example.com', type: 'work' },
        { value: 'babs@jensen.org', type: 'home' },
        { value: 'b@work.example.org', type: 'work' },
      ],
    });
    const got = await replay('3.5.2.2-remove-emails-by-filter.json', { [BABS]: u.id });
    expect(got.emails).toEqual([
      { value: 'babs@jensen.org', type: 'home' },
      { value: 'b@work.example.org', type: 'work' },
    ]);
  });

  it('§3.5.2.2 remove one member and add another in one request', async () => {
    const s = await groupWith([BABS]);
    expect(memberIds(await replay('3.5.2.2-remove-and-add-members.json', s.ids))).toEqual([s.james]);
  });

  it('§3.5.2.3 replace all members', async () => {
    const s = await groupWith([JAMES]);
    expect(memberIds(await replay('3.5.2.3-replace-members.json', s.ids)).sort()).toEqual([s.babs, s.james].sort());
  });

  it('§3.5.2.3 replace the work address, then only its streetAddress', async () => {
    const u = await post('/Users', { schemas: [USER], userName: `addr-${++seq}`, addresses: [{ type: 'work', streetAddress: '100 Old Road', country: 'US' }] });
    const replaced = await replay('3.5.2.3-replace-work-address.json', { [BABS]: u.id });
    const ADDRESS = specExample<Example>('rfc7644/3.5.2.3-replace-work-address.json').example.body as { Operations: { value: unknown }[] };
    expect(replaced.addresses).toEqual([ADDRESS.Operations[0]!.value]);
    const street = await replay('3.5.2.3-replace-street-address.json', { [BABS]: u.id });
    expect(street.addresses[0]).toMatchObject({ type: 'work', streetAddress: '1010 Broadway Ave', locality: 'Hollywood', primary: true });
  });

  it('§3.5.2.3 replace emails and nickname without a path', async () => {
    const u = await post('/Users', { schemas: [USER], userName: `rp-${++seq}`, emails: [{ value: 'old@example.com', type: 'other' }], nickName: 'B' });
    const got = await replay('3.5.2.3-replace-without-path.json', { [BABS]: u.id });
    expect(got.emails).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ]);
    expect(got.nickName).toBe('Babs');
  });
});
