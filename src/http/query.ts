import type { FastifyRequest } from 'fastify';
import { badRequest } from '../core/errors.js';

/**
 * The query parameters of a request as single strings. plugins/query-params.ts has refused any
 * repeated parameter before a handler runs, so no value is an array here.
 */
export type Query = Readonly<Record<string, string | undefined>>;

export const queryOf = (req: FastifyRequest): Query => (req.query ?? {}) as Query;

/**
 * An integer query parameter (RFC 7644 §3.4.2.4 `startIndex`, `count`; `limit`), or undefined when
 * absent or empty. Anything but decimal digits with an optional sign, or a number beyond what a
 * double holds exactly, is 400 invalidValue: never NaN, never a rounded value in SQL.
 */
export function integerParam(q: Query, name: string): number | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw badRequest('invalidValue', `${name} must be an integer between ${Number.MIN_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`);
  return n;
}
