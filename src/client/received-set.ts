import type { SetVerifyError } from '../events/verify.js';

/** RFC 8935 §2.4 error codes a receiver reports for a SET it will not accept. */
export type SetErrorCode = SetVerifyError['err'];

/**
 * One accepted SET as written to the NDJSON output. Claims are copied from the verified payload;
 * `events` is normalised for consumers (canonical RFC 9967 URIs, asyncresp `status` as a string,
 * whatever older peers sent), while `set` keeps the compact JWS exactly as received.
 */
export interface ReceivedSet {
  jti: string;
  iss: string | undefined;
  /** Always an array (the SET may carry a string). */
  aud: string[];
  /** null when the SET had none (i2scim omits it); a warning says so. */
  iat: number | null;
  toe?: number;
  txn: string | undefined;
  sub_id: unknown;
  events: Record<string, Record<string, unknown>>;
  /** When this receiver accepted it (RFC 3339). */
  received_at: string;
  via: 'poll' | 'push';
  warnings?: string[];
  set: string;
}

export type ReceiveOutcome =
  | { outcome: 'accepted'; jti: string; set: ReceivedSet }
  /**
   * Already written (de-duplicated by jti, RFC 8417 §2.2): acknowledge it again, write nothing
   * (RFC 8935 §2, RFC 8936 §2.4).
   */
  | { outcome: 'duplicate'; jti: string }
  | { outcome: 'rejected'; jti: string | undefined; err: SetErrorCode; description: string };

/**
 * What the poll and push loops drive: SetReceiver (set-receiver.ts), which in turn runs the loops
 * from its poll() and listen().
 */
export interface SetSink {
  /** Ready to judge SETs: keys fetched, the jtis already written remembered. */
  start(): Promise<void>;
  /** Verify one compact SET and write it if new; throws only when it cannot be judged now. */
  receive(jws: string, ctx?: { jti?: string | undefined; via?: 'poll' | 'push' }): Promise<ReceiveOutcome>;
  /** Make what was written durable before it is acknowledged. */
  flush(): Promise<void>;
}
