/**
 * ServiceProviderConfig (RFC 7643 §5, SPC-1..6) built from what the server really does, so
 * discovery cannot disagree with behaviour. Capabilities are passed in by the composition root.
 */
export interface Capabilities {
  patch: boolean;
  bulk: { maxOperations: number; maxPayloadSize: number } | undefined;
  filter: { maxResults: number };
  sort: boolean;
  etag: boolean;
  jwt: boolean;
  /** RFC 9967 §4: omitted when SETs are not configured (SPC-1). */
  securityEvents: { asyncRequest: 'none' | 'long' | 'request'; eventUris: readonly string[] } | undefined;
}

export const SPC_URN = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';

export function serviceProviderConfig(baseUrl: string, c: Capabilities) {
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
    etag: { supported: c.etag },
    authenticationSchemes,
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/scim/v2/ServiceProviderConfig` },
  };
  if (c.securityEvents) spc.securityEvents = { asyncRequest: c.securityEvents.asyncRequest, eventUris: [...c.securityEvents.eventUris] };
  return spc;
}
