/**
 * The body of a stream's redrive and replay requests (the operator API): explicit jtis, a jti
 * range (inclusive), a time, or everything. Shared by the server that reads it and the client
 * library that sends it.
 */
export interface RequeueSelector {
  jti?: string | string[];
  from_jti?: string;
  to_jti?: string;
  since?: string;
  all?: boolean;
}
