import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { LONG } from '../helpers/procs.js';

/**
 * Shared by the security tests. Property runs stay small by default so the folder fits
 * in about a minute on two cores; SCIMCAST_LONG_TESTS=1 runs the long variants, and
 * SCIMCAST_FC_SEED replays a failing fast-check run (fast-check prints the seed on failure).
 */

export function fcParams(runs: number, longRuns: number): { numRuns: number; seed?: number; endOnFailure: boolean } {
  const seed = process.env.SCIMCAST_FC_SEED;
  return { numRuns: LONG ? longRuns : runs, ...(seed ? { seed: Number(seed) } : {}), endOnFailure: true };
}

export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';

/**
 * Everything a request could change, in one row: resources (with their versions and documents),
 * memberships, SETs and their states, changes waiting for the fan-out, async transactions, streams
 * and queued jobs.
 */
export async function snapshot(t: TestApp): Promise<Record<string, string>> {
  // The SETs of earlier changes are signed after their commit: let that finish first.
  await t.settle();
  // The test's own reading is not bounded by the server's statement timeout (a test may set it to
  // a second, and hashing 100,000 documents on a busy machine can take longer).
  const client = await t.database.pool.connect();
  try {
    await client.query('begin');
    await client.query('set local statement_timeout = 0');
    const { rows } = await client.query(`
    select
      (select count(*) from resources)::text as resources,
      (select md5(coalesce(string_agg(id::text || ':' || version || ':' || doc::text, ',' order by id), '')) from resources) as resource_docs,
      (select count(*) from group_members)::text as members,
      (select md5(coalesce(string_agg(jti || ':' || state, ',' order by seq), '')) from events) as events,
      (select count(*) from txns)::text as txns,
      (select count(*) from txn_ops)::text as txn_ops,
      (select md5(coalesce(string_agg(id || ':' || status || ':' || coalesce(endpoint_url, '') || ':' || updated_at::text, ',' order by id), '')) from feeds) as feeds,
      (select count(*) from feed_subjects)::text as subjects,
      (select count(*) from changes)::text as changes,
      (select count(*) from graphile_worker._private_jobs)::text as jobs`);
    await client.query('commit');
    return rows[0] as Record<string, string>;
  } finally {
    client.release();
  }
}

/** RFC 7644 §3.12: a 4xx with a SCIM error body whose `status` is the HTTP status as a string. */
export function expectScimClientError(res: LightMyRequestResponse, context: string): void {
  expect(res.statusCode, `${context}: ${res.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.statusCode, `${context}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
  const body = res.json() as { schemas?: unknown; status?: unknown; detail?: unknown };
  expect(body.schemas, context).toEqual([ERROR_URN]);
  expect(body.status, context).toBe(String(res.statusCode));
  expect(typeof body.detail, context).toBe('string');
}

/** Never a 5xx; anything that is not a success is a SCIM client error. */
export function expectNo5xx(res: LightMyRequestResponse, context: string): void {
  expect(res.statusCode, `${context}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
  if (res.statusCode >= 400) expectScimClientError(res, context);
}

/** Percent-encode the UTF-8 bytes of `s` (lone surrogates become U+FFFD, as a client's encoder would). */
export const encodeQuery = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

export async function rawRequest(
  t: TestApp,
  method: string,
  url: string,
  body: string | Buffer | undefined,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: method as 'POST',
    url,
    headers: { authorization: `Bearer ${t.token}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }), ...headers },
    ...(body === undefined ? {} : { payload: body }),
  });
}

/**
 * Every (method, path) in fastify's route tree, e.g. `GET /scim/v2/users/:id` (lower case: the
 * router is case-insensitive). printRoutes draws one node per line, indented four columns per
 * level, with the methods in parentheses; HEAD twins of GET routes are kept.
 */
export function registeredRoutes(t: TestApp): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of t.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (.*?)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack[depth] = m[2]!;
    const path = stack.join('');
    for (const method of m[3] ? m[3].split(', ') : []) out.push(`${method} ${path}`);
  }
  return out;
}
