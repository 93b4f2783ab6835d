import { createHash } from 'node:crypto';
import { ScimError } from '../core/errors.js';
import type { ValueKind } from './attr-sql.js';
import type { Position } from './sort-sql.js';

/**
 * Cursor tokens for RFC 9865 cursor-based pagination, implemented as keyset pagination: the
 * token carries the sort key and id of the row the client saw last (`nextCursor`) or first
 * (`previousCursor`), and the next query asks for rows strictly after (or before) that
 * position. Nothing is stored on the server, so:
 * - a page never skips or repeats a resource that exists throughout the walk, whatever is
 *   created or deleted between requests (a new resource appears if it sorts after the cursor);
 * - cursors never expire: `expiredCursor` is never returned, and any timeout advertised in
 *   ServiceProviderConfig is a guarantee that is always over-delivered.
 *
 * The token is base64url JSON (RFC 9865 §2: only RFC 3986 unreserved characters). It is
 * opaque to clients but not secret or signed: a forged position can only move within the
 * result set of the filter the client is already allowed to run. It includes a fingerprint of
 * the query it belongs to, so reusing it with another filter or sort is `invalidCursor`.
 */

export type CursorDirection = 'next' | 'prev';

export interface CursorState extends Position {
  readonly direction: CursorDirection;
}

/** What a cursor is bound to: RFC 9865 §2 requires the same query parameters on every page. */
export interface CursorScope {
  readonly types: readonly string[];
  readonly filter: string;
  readonly sortBy: string;
  readonly descending: boolean;
}

interface Token {
  v: 1;
  q: string;
  d: 'n' | 'p';
  k: string | null;
  i: string;
}

/** Hard bound on what is decoded: a sort key is one attribute value, not a document. */
const MAX_TOKEN_LENGTH = 65536;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY_FORMATS: Partial<Record<ValueKind, RegExp>> = {
  boolean: /^(true|false)$/,
  number: /^-?\d+(\.\d+)?$/,
  dateTime: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/,
};

/** RFC 9865 §2.1 adds `invalidCursor` to the RFC 7644 §3.12 Table 9 scimType values. */
const invalidCursor = (detail: string) =>
  new ScimError(400, 'invalidCursor', `Invalid cursor: ${detail}. Request the first page with an empty cursor.`);

export function fingerprint(scope: CursorScope): string {
  const canonical = JSON.stringify([[...scope.types].sort(), scope.filter, scope.sortBy.toLowerCase(), scope.descending]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

export function encodeCursor(state: CursorState, scope: CursorScope): string {
  const token: Token = { v: 1, q: fingerprint(scope), d: state.direction === 'next' ? 'n' : 'p', k: state.key, i: state.id };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function parseToken(text: string): Token {
  if (text.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) throw invalidCursor('not a cursor issued by this server');
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Token;
  } catch {
    throw invalidCursor('not a cursor issued by this server');
  }
}

function checkShape(t: Token): void {
  const keyOk = (k: unknown) => k === null || typeof k === 'string';
  const ok = t !== null && typeof t === 'object' && t.v === 1 && (t.d === 'n' || t.d === 'p') && typeof t.i === 'string' && UUID.test(t.i) && keyOk(t.k);
  if (!ok) throw invalidCursor('not a cursor issued by this server');
}

/** The key is later cast to the sort key's SQL type: a forged one must fail here, not in PostgreSQL. */
function checkKey(key: string | null, kind: ValueKind): void {
  if (key !== null && !(KEY_FORMATS[kind]?.test(key) ?? true)) throw invalidCursor('not a cursor issued by this server');
}

/** The position a cursor names, checked against the query it is used with. */
export function decodeCursor(text: string, scope: CursorScope, kind: ValueKind): CursorState {
  const t = parseToken(text);
  checkShape(t);
  if (t.q !== fingerprint(scope)) throw invalidCursor('it was issued for a different filter, sortBy or sortOrder');
  checkKey(t.k, kind);
  return { direction: t.d === 'n' ? 'next' : 'prev', key: t.k, id: t.i };
}
