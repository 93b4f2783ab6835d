import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';

/**
 * The request log at the default level: one line per request (fastify writes two by default),
 * carrying what an operator reads a request by: method, URL (secrets cut out), status, duration,
 * and the request id that the response's x-request-id header repeats.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

interface Line {
  level: number;
  msg: string;
  reqId?: string;
  req?: { method?: string; url?: string; remoteAddress?: string };
  res?: { statusCode?: number };
  responseTime?: number;
}

const lines: Line[] = [];
const t = useTestApp({ LOG_LEVEL: 'info' }, { logStream: { write: (l) => void lines.push(JSON.parse(l) as Line) } });

const linesOf = (res: { headers: Record<string, unknown> }) => lines.filter((l) => l.reqId === res.headers['x-request-id']);

describe('the request log', () => {
  it('at info, writes one line per request with its method, URL, status and duration', async () => {
    const made = await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'logged-1' });
    expect(made.statusCode).toBe(201);
    const id = made.json<{ id: string }>().id;
    const read = await t.req('GET', `/scim/v2/Users/${id}?attributes=userName`);
    const missing = await t.req('GET', '/scim/v2/Users/00000000-0000-4000-8000-000000000000');
    const refused = await t.req('GET', '/scim/v2/Users?count=1&access_token=sct_0123456789ab_c2VjcmV0LXBhcnQtb2YtdGhlLXRva2Vu', undefined, { auth: null });
    const want: Array<[typeof made, string, string, number]> = [
      [made, 'POST', '/scim/v2/Users', 201],
      [read, 'GET', `/scim/v2/Users/${id}?attributes=userName`, 200],
      [missing, 'GET', '/scim/v2/Users/00000000-0000-4000-8000-000000000000', 404],
      [refused, 'GET', '/scim/v2/Users?count=1&access_token=[redacted]', 401],
    ];
    for (const [res, method, url, status] of want) {
      expect(res.statusCode).toBe(status);
      const mine = linesOf(res);
      expect(mine, `${method} ${url}`).toHaveLength(1);
      expect(mine[0]).toMatchObject({ level: 30, msg: 'request completed', req: { method, url }, res: { statusCode: status } });
      expect(mine[0]!.responseTime).toBeGreaterThan(0);
    }
    expect(JSON.stringify(lines)).not.toContain('c2VjcmV0LXBhcnQtb2YtdGhlLXRva2Vu');
  });

  it('at debug, also writes the incoming request before it is served', async () => {
    t.app.log.level = 'debug';
    try {
      const res = await t.req('GET', '/scim/v2/Users?count=1');
      expect(linesOf(res).map((l) => [l.msg, l.req?.method, l.req?.url])).toEqual([
        ['incoming request', 'GET', '/scim/v2/Users?count=1'],
        ['request completed', 'GET', '/scim/v2/Users?count=1'],
      ]);
    } finally {
      t.app.log.level = 'info';
    }
  });
});
