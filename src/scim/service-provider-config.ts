/**
 * ServiceProviderConfig (RFC 7643 §5, RFC 9967 §4) built from what the server really does, so
 * discovery cannot disagree with behaviour. Capabilities are passed in by the composition root.
 */
export interface Capabilities {
  patch: boolean;
  bulk: { maxOperations: number; maxPayloadSize: number } | undefined;
  filter: { maxResults: number };
  sort: boolean;
  etag: boolean;
  jwt: boolean;
  /** RFC 9967 §4: omitted when SETs are not configured. */
  securityEvents: { asyncRequest: 'none' | 'long' | 'request'; eventUris: readonly string[] } | undefined;
}

export const SPC_URN = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';

/**
 * RFC 9865 §4 `pagination`: both methods; index stays the default so existing clients see no
 * change (RFC 9865 §2.4). A page holds at most filter.maxResults, which is also the default.
 * Cursors are stateless keyset positions that never expire, so any cursorTimeout is a promise
 * kept; a day is advertised as a round figure clients can plan with.
 */
function paginationOf(maxResults: number) {
  return { cursor: true, index: true, defaultPaginationMethod: 'index', defaultPageSize: maxResults, maxPageSize: maxResults, cursorTimeout: 86400 };
}

/**
 * `core`: only the attributes RFC 7643 §5 defines, for clients whose model refuses the ones later
 * RFCs add to the document (SCIMCAST_COMPAT_CORE_SPC). The capabilities stay; only their
 * advertisement goes: RFC 9865 §2.4 keeps index paging the default for clients that do not know
 * `pagination`, and `Prefer: respond-async` is still honoured.
 */
export function serviceProviderConfig(baseUrl: string, c: Capabilities, opts: { core?: boolean } = {}) {
  const authenticationSchemes: Record<string, unknown>[] = [
    {
      type: 'oauthbearertoken',
      name: 'OAuth Bearer Token',
      description: 'Opaque bearer tokens issued by `scimcast token create`, sent as Authorization: Bearer <token>',
      specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
      primary: true,
    },
  ];
  if (c.jwt) {
    authenticationSchemes.push({
      type: 'oauthbearertoken',
      name: 'JWT access token',
      description: 'JWT access tokens from the configured issuer, verified against its JWKS; scopes from the scope claim',
      specUri: 'https://www.rfc-editor.org/rfc/rfc9068',
    });
  }
  const spc: Record<string, unknown> = {
    schemas: [SPC_URN],
    patch: { supported: c.patch },
    bulk: c.bulk ? { supported: true, ...c.bulk } : { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: c.filter.maxResults },
    changePassword: { supported: false },
    sort: { supported: c.sort },
    ...(opts.core ? {} : { pagination: paginationOf(c.filter.maxResults) }),
    etag: { supported: c.etag },
    authenticationSchemes,
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/scim/v2/ServiceProviderConfig` },
  };
  if (c.securityEvents && !opts.core) spc.securityEvents = { asyncRequest: c.securityEvents.asyncRequest, eventUris: [...c.securityEvents.eventUris] };
  return spc;
}
