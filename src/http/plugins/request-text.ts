import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../core/errors.js';

/** U+0000, or a UTF-16 surrogate without its partner. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why PostgreSQL could not store `s` (text and jsonb refuse U+0000 and unpaired surrogates), or
 * undefined. Checked at the edge so such input is a 400, never a database error.
 */
export function unstorableText(s: string): string | undefined {
  const m = UNSTORABLE.exec(s);
  if (!m) return undefined;
  return m[0] === '\u0000' ? 'U+0000' : 'an unpaired UTF-16 surrogate';
}

function check(where: string, name: string, value: unknown): void {
  const values = Array.isArray(value) ? value : [value];
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const why = unstorableText(v) ?? unstorableText(name);
    if (why) throw badRequest('invalidValue', `${where} ${JSON.stringify(name)} contains ${why}`);
  }
}

/**
 * Path parameters and query values reach SQL as ids, filters and stream ids; a `%00` in them must
 * be a 400 like the same character in a body: bad input gets a SCIM error (RFC 7644 §3.12).
 * preValidation: after authentication and body parsing, before any handler.
 */
export function registerRequestText(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    for (const [k, v] of Object.entries((req.params ?? {}) as Record<string, unknown>)) check('Path parameter', k, v);
    for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) check('Query parameter', k, v);
  });
}
