import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../core/errors.js';
import { unstorableText } from './request-text.js';

/** RFC 7644 §3.1: clients send application/scim+json; application/json is accepted too. */
export const JSON_TYPES = ['application/scim+json', 'application/json'];
export const SCIM_CONTENT_TYPE = 'application/scim+json';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * RFC 8259 §8.1: JSON exchanged between systems MUST be UTF-8. `fatal` makes a malformed byte
 * sequence an error instead of a silent U+FFFD that would then be stored.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Walk the parsed value with an explicit stack (no recursion, so hostile nesting cannot overflow)
 * and refuse prototype-pollution keys, nesting beyond the configured depth, and strings
 * PostgreSQL cannot store (U+0000, unpaired surrogates), which would otherwise surface as a
 * 500 from the database.
 */
export function checkJsonShape(value: unknown, maxDepth: number): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      checkString(v, 'a string value');
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth > maxDepth) throw badRequest('invalidSyntax', `JSON nesting exceeds the maximum depth of ${maxDepth}`);
    if (Array.isArray(v)) {
      for (const item of v) stack.push([item, depth + 1]);
    } else {
      for (const [k, item] of Object.entries(v)) {
        if (FORBIDDEN_KEYS.has(k)) throw badRequest('invalidSyntax', `JSON member name "${k}" is not allowed`);
        checkString(k, 'a member name');
        stack.push([item, depth + 1]);
      }
    }
  }
}

function checkString(s: string, what: string): void {
  const why = unstorableText(s);
  if (why) throw badRequest('invalidValue', `JSON ${what} contains ${why}`);
}

export function registerScimJson(app: FastifyInstance, opts: { maxDepth: number }): void {
  // fastify also parses text/plain by default: such a body would reach a route as a string and be
  // refused as 400 invalidSyntax. RFC 7644 §3.1 knows only JSON, so every other media type is one
  // the server does not support: 415 (RFC 9110 §15.5.16), the same for all of them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer' }, (_req, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      return done(badRequest('invalidSyntax', 'Request body is not valid UTF-8 (RFC 8259 §8.1)'), undefined);
    }
    if (text.trim() === '') return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return done(badRequest('invalidSyntax', `Request body is not valid JSON: ${(e as Error).message}`), undefined);
    }
    try {
      checkJsonShape(parsed, opts.maxDepth);
    } catch (e) {
      return done(e as Error, undefined);
    }
    done(null, parsed);
  });
}
