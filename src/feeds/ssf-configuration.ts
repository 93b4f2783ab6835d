import { POLL_METHOD, PUSH_METHOD } from '../core/delivery-methods.js';

/**
 * The transmitter configuration metadata at /.well-known/ssf-configuration (OpenID SSF 1.0 §7.1):
 * where a receiver finds the keys, the delivery methods and the stream management endpoints.
 */
export function ssfConfiguration(baseUrl: string) {
  return {
    spec_version: '1_0',
    issuer: baseUrl,
    jwks_uri: `${baseUrl}/jwks.json`,
    delivery_methods_supported: [PUSH_METHOD, POLL_METHOD],
    configuration_endpoint: `${baseUrl}/ssf/streams`,
    status_endpoint: `${baseUrl}/ssf/status`,
    add_subject_endpoint: `${baseUrl}/ssf/subjects/add`,
    remove_subject_endpoint: `${baseUrl}/ssf/subjects/remove`,
    verification_endpoint: `${baseUrl}/ssf/verify`,
    authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6750' }],
    default_subjects: 'ALL',
  };
}
