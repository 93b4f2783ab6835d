/**
 * The ListResponse message (RFC 7644 §3.4.2): every list scimcast answers (resources, searches,
 * discovery, async requests) is built here, so its `schemas` and members are the same everywhere.
 */
export const LIST_RESPONSE_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export interface ListResponse<R = unknown> {
  schemas: [typeof LIST_RESPONSE_URN];
  totalResults: number;
  itemsPerPage: number;
  /** Index pagination only (RFC 7644 §3.4.2.4); a cursor page has no index. */
  startIndex?: number;
  /** RFC 9865 §2.2 cursor pagination. */
  nextCursor?: string;
  previousCursor?: string;
  Resources: R[];
}

/** The envelope around a page; its members keep the order they are given in. */
export function listResponse<R>(page: Omit<ListResponse<R>, 'schemas'>): ListResponse<R> {
  return { schemas: [LIST_RESPONSE_URN], ...page };
}

/** Every item in one page, from the first: a list small enough never to be paged. */
export function completeList<R>(items: R[]): ListResponse<R> {
  return listResponse({ totalResults: items.length, startIndex: 1, itemsPerPage: items.length, Resources: items });
}
