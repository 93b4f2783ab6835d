import { createHash, randomBytes, randomUUID } from 'node:crypto';

export interface Ids {
  /** Resource ids: RFC 7643 §3.1 leaves the form to the provider; UUIDs are what IdPs expect. */
  uuid(): string;
  /** Set-Txn values: RFC 9967 §3 asks for a unique string; 32 hex chars as i2scim emits. */
  txn(): string;
  /**
   * Time-ordered SET `jti` (RFC 8417 §2.2: unique per feed; sortable ids help receivers order and resume):
   * 48-bit millisecond time + 80 random bits, Crockford base32 (ULID layout), monotonic per process.
   */
  jti(now: Date): string;
}

/**
 * The form of every resource id this server issues (RFC 9562 §4 string form: 8-4-4-4-12 hex
 * digits). Anything else names no resource: checked before a value reaches a `uuid` column, where
 * PostgreSQL would refuse it (`------------------------------------` has the length and the
 * characters, not the shape) and turn a client's typo into a server error.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID.test(s);

const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = B32[ms % 32]! + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

export function makeIds(): Ids {
  let lastMs = -1;
  let lastRand: number[] = [];
  return {
    uuid: () => randomUUID(),
    txn: () => randomUUID().replaceAll('-', ''),
    jti(now: Date) {
      const ms = now.getTime();
      if (ms <= lastMs) {
        // Same (or earlier) millisecond: increment the random part so ids stay strictly increasing.
        let i = lastRand.length - 1;
        while (i >= 0 && lastRand[i] === 31) lastRand[i--] = 0;
        if (i >= 0) lastRand[i]!++;
      } else {
        lastMs = ms;
        lastRand = [...randomBytes(16)].map((b) => b % 32);
      }
      return encodeTime(lastMs) + lastRand.map((d) => B32[d]).join('');
    },
  };
}

/**
 * The jti of the SET that one change produces for one stream and event URI, in the ULID layout of
 * `jti()`: the change's millisecond (10 digits), then its outbox sequence number (8 digits, so
 * SETs of one millisecond still sort in the order their changes were written), then 8 digits of
 * SHA-256 over the change's random id, the stream and the URI. Derived, not drawn: signing the
 * same change again after a crash (the fan-out transaction rolled back) gives the same jti, so a
 * receiver never sees one change under two identities (RFC 8417 §2.2: jti identifies the event).
 */
export function derivedJti(ms: number, seq: number, changeId: string, streamId: string, uri: string): string {
  const h = createHash('sha256').update(`${changeId}\n${streamId}\n${uri}`).digest();
  // 40 bits of the hash as 8 base32 digits.
  let rest = h.readUIntBE(0, 5);
  let tail = '';
  for (let i = 0; i < 8; i++) {
    tail = B32[rest % 32]! + tail;
    rest = Math.floor(rest / 32);
  }
  return encodeTime(ms) + encodeTime(seq % 2 ** 40).slice(2) + tail;
}

/**
 * The push feed of a per-request callback is named after its request (`cb-<txn>`): one per
 * request, found from the request alone. Stream ids are `f-<hex>`, so the two never meet, and
 * metrics label every callback feed `callback` rather than one label value per request.
 */
export const CALLBACK_FEED_PREFIX = 'cb-';
export const callbackFeedId = (txnId: string): string => `${CALLBACK_FEED_PREFIX}${txnId}`;
export const isCallbackFeed = (feedId: string): boolean => feedId.startsWith(CALLBACK_FEED_PREFIX);
