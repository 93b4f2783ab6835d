import { describe, expect, it } from 'vitest';
import { BulkClient } from '../../../src/client/bulk-client.js';

/** ServiceProviderConfig discovery (RFC 7643 §5) with a stand-in fetch: what the client concludes. */
const answering = (status: number, body?: unknown): typeof fetch =>
  (async () => new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/scim+json' } })) as typeof fetch;

const client = (f: typeof fetch) => new BulkClient({ url: 'http://scim.test/scim/v2', token: 't', fetch: f, maxAttempts: 1 });

describe('BulkClient.discover', () => {
  it('reads the bulk limits, filter and patch support', async () => {
    const spc = { bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 1048576 }, filter: { supported: true, maxResults: 200 }, patch: { supported: true } };
    expect(await client(answering(200, spc)).discover()).toEqual({ bulk: { maxOperations: 1000, maxPayloadSize: 1048576 }, filter: true, patch: true, maxResults: 200 });
  });

  it('a server without the document gets single requests and the RFC 7644 basics', async () => {
    expect(await client(answering(404)).discover()).toEqual({ bulk: undefined, filter: true, patch: true, maxResults: 100 });
  });

  it('a server still throttling or failing after the retries stops the import instead of a guess', async () => {
    await expect(client(answering(503, { detail: 'maintenance' })).discover()).rejects.toThrow(/ServiceProviderConfig: 503 maintenance/);
    await expect(client(answering(429)).discover()).rejects.toThrow(/ServiceProviderConfig: 429/);
  });

  it('a refused token is named as such', async () => {
    await expect(client(answering(401, { detail: 'bad token' })).discover()).rejects.toThrow(/401 bad token \(check --token/);
  });
});

describe('BulkClient against a server that ignores count', () => {
  /**
   * The lookup of one externalId answered with 200,000 resources in one page: the client must
   * read them (a spread of the page into push() overflowed the call stack) and go on importing.
   */
  it('reads a 200,000-resource lookup page and imports the item', async () => {
    const others = Array.from({ length: 200_000 }, (_, i) => ({ id: `o${i}`, externalId: `other-${i}` }));
    const posted: string[] = [];
    const server = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/scim+json' } });
      if (url.pathname.endsWith('/ServiceProviderConfig')) return json(200, { bulk: { supported: false }, filter: { supported: true, maxResults: 200 }, patch: { supported: true } });
      if ((init?.method ?? 'GET') === 'GET') return json(200, { totalResults: others.length, itemsPerPage: others.length, startIndex: 1, Resources: others });
      posted.push(String(init?.body));
      return json(201, { id: 'new-1', externalId: 'u1' });
    }) as typeof fetch;
    const items = [{ line: 1, type: 'user' as const, externalId: 'u1', resource: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], externalId: 'u1', userName: 'u1' }, members: [] }];
    const report = await client(server).import({ items, errors: [] });
    expect(posted).toHaveLength(1);
    expect(report).toMatchObject({ created: 1, failed: 0 });
  });
});
