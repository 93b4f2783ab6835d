import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../core/errors.js';

/** RFC 7644 §3.1: clients send application/scim+json; application/json is accepted too. */
export const JSON_TYPES = ['application/scim+json', 'application/json'];
export const SCIM_CONTENT_TYPE = 'application/scim+json';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Walk the parsed value with an explicit stack (no recursion, so hostile nesting cannot overflow)
 * and refuse prototype-pollution keys and nesting beyond the configured depth (issue 10 §4).
 */
export function checkJsonShape(value: unknown, maxDepth: number): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > maxDepth) throw badRequest('invalidSyntax', `JSON nesting exceeds the maximum depth of ${maxDepth}`);
    if (Array.isArray(v)) {
      for (const item of v) stack.push([item, depth + 1]);
    } else {
      for (const [k, item] of Object.entries(v)) {
        if (FORBIDDEN_KEYS.has(k)) throw badRequest('invalidSyntax', `JSON member name "${k}" is not allowed`);
        stack.push([item, depth + 1]);
      }
    }
  }
}

export function registerScimJson(app: FastifyInstance, opts: { maxDepth: number }): void {
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
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
