/**
 * The SSF stream delivery methods scimcast offers: RFC 8935 push and RFC 8936 poll, named by the
 * URNs those RFCs define (SSF 1.0 §8.1.1 `delivery.method`).
 */
export const PUSH_METHOD = 'urn:ietf:rfc:8935';
export const POLL_METHOD = 'urn:ietf:rfc:8936';
