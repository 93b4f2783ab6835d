import { ASYNC_STATUSES } from '../../async/status-queries.js';

/**
 * The reusable query and header parameters (`components.parameters`) and response headers
 * (`components.headers`) that route descriptions name.
 */

const query = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ name, in: 'query', description, schema });
const header = (name: string, description: string) => ({ name, in: 'header', description, schema: { type: 'string' } });

export const PARAMETERS = {
  filter: query('filter', 'RFC 7644 §3.4.2.2 filter expression, e.g. `userName eq "bjensen"`.'),
  sortBy: query('sortBy', 'RFC 7644 §3.4.2.3 attribute to sort by.'),
  sortOrder: query('sortOrder', 'RFC 7644 §3.4.2.3 `ascending` (default) or `descending`.', { type: 'string', enum: ['ascending', 'descending'] }),
  startIndex: query('startIndex', 'RFC 7644 §3.4.2.4 1-based index of the first result.', { type: 'integer' }),
  count: query('count', 'RFC 7644 §3.4.2.4 results per page.', { type: 'integer' }),
  cursor: query('cursor', 'RFC 9865 cursor pagination: empty for the first page, then `nextCursor`.'),
  attributes: query('attributes', 'RFC 7644 §3.4.2.5 comma-separated attributes to return.'),
  excludedAttributes: query('excludedAttributes', 'RFC 7644 §3.4.2.5 comma-separated attributes to leave out.'),
  asyncStatus: query('status', 'Only requests in this state.', { type: 'string', enum: ASYNC_STATUSES }),
  streamId: query('stream_id', 'The stream (OpenID SSF 1.0 §8.1.1).'),
  limit: query('limit', 'At most this many (1–1000, default 100).', { type: 'integer', minimum: 1, maximum: 1000 }),
  Prefer: header('Prefer', 'RFC 7240: `respond-async` (RFC 9967 §2.5.1), `wait=N`, `return=minimal|representation`, `priority=…`, `callback="<url>"` (scope scim:callback).'),
  IfMatch: header('If-Match', 'RFC 7644 §3.14: the ETag the resource must still have.'),
  IfNoneMatch: header('If-None-Match', 'RFC 7644 §3.14: 304 Not Modified when the resource still has this ETag.'),
} as const;

export type ParameterName = keyof typeof PARAMETERS;

const responseHeader = (description: string) => ({ description, schema: { type: 'string' } });

/** Keyed by the header's name, which is also its `components.headers` name. */
export const HEADERS = {
  ETag: responseHeader("RFC 7644 §3.14: the resource's version."),
  Location: responseHeader('The created resource (RFC 7644 §3.3), or the status of an async request (RFC 9967 §2.5.1.1).'),
  'Set-Txn': responseHeader('RFC 9967: the transaction id of an async request.'),
  'Preference-Applied': responseHeader('RFC 7240 §3: the preferences honoured.'),
  'Retry-After': responseHeader('Seconds to wait before asking again.'),
} as const;

export type HeaderName = keyof typeof HEADERS;
