import { badRequest } from '../../core/errors.js';
import { isObject } from '../../core/is-object.js';

export const SEARCH_REQUEST_URN = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

/** A SearchRequest's members (RFC 7644 §3.4.3, plus RFC 9865 `cursor`). */
export interface SearchRequest {
  filter?: string | undefined;
  sortBy?: string | undefined;
  sortOrder?: string | undefined;
  startIndex?: number | undefined;
  count?: number | undefined;
  cursor?: string | undefined;
  attributes?: string[] | undefined;
  excludedAttributes?: string[] | undefined;
}

/** A body that does not fit the SearchRequest schema (RFC 7644 §3.12 Table 9 invalidSyntax). */
const invalidSyntax = (detail: string) => badRequest('invalidSyntax', `Invalid SearchRequest: ${detail}`);

/** Member names are case-insensitive like attribute names (RFC 7643 §2.1). */
function member(body: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : body[key];
}

function stringMember(body: Record<string, unknown>, name: string): string | undefined {
  const v = member(body, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidSyntax(`'${name}' must be a string`);
  return v;
}

function integerMember(body: Record<string, unknown>, name: string): number | undefined {
  const v = member(body, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalidSyntax(`'${name}' must be an integer`);
  return v;
}

/** RFC 7644 §3.4.3: attributes and excludedAttributes are multi-valued strings. */
function pathsMember(body: Record<string, unknown>, name: string): string[] | undefined {
  const v = member(body, name);
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((p) => typeof p === 'string')) throw invalidSyntax(`'${name}' must be an array of attribute paths`);
  const paths = (v as string[]).flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p !== '');
  return paths.length > 0 ? paths : undefined;
}

function checkSchemas(body: Record<string, unknown>): void {
  const schemas = member(body, 'schemas');
  const ok = Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SEARCH_REQUEST_URN.toLowerCase());
  if (!ok) throw invalidSyntax(`'schemas' must be ["${SEARCH_REQUEST_URN}"]`);
}

/** Parse a SearchRequest body (RFC 7644 §3.4.3, plus RFC 9865 `cursor`); members are checked in this order. */
export function parseSearchRequest(body: unknown): SearchRequest {
  if (!isObject(body)) throw invalidSyntax('the body must be a JSON object');
  checkSchemas(body);
  return {
    filter: stringMember(body, 'filter'),
    sortBy: stringMember(body, 'sortBy'),
    sortOrder: stringMember(body, 'sortOrder'),
    startIndex: integerMember(body, 'startIndex'),
    count: integerMember(body, 'count'),
    cursor: stringMember(body, 'cursor'),
    attributes: pathsMember(body, 'attributes'),
    excludedAttributes: pathsMember(body, 'excludedAttributes'),
  };
}
