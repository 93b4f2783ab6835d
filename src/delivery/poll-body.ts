/**
 * The RFC 8936 §2.3 poll response, written as bytes straight from the stored strings: no object of
 * a page of SETs is built, and nothing is serialised twice.
 *
 * A SET is stored as its compact JWS: base64url segments joined by dots (RFC 7515 §7.1), and a
 * jti of scimcast's is a ULID. Such a string needs no JSON escaping, so it is copied between
 * quotes as one latin1 copy. Anything else (a jti from elsewhere, a value that does not look
 * like a compact JWS) goes through JSON.stringify, so the body is valid JSON whatever is stored.
 */
const SAFE = /^[A-Za-z0-9_.-]*$/;
const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;

/** JSON string of `s`: undefined when `s` can be written raw between quotes. */
const escaped = (s: string): string | undefined => (SAFE.test(s) ? undefined : JSON.stringify(s));

export function pollBody(jtis: readonly string[], sets: readonly string[], moreAvailable: boolean): Buffer {
  const head = '{"sets":{';
  const tail = `},"moreAvailable":${moreAvailable}}`;
  const n = jtis.length;
  const keys = new Array<string | undefined>(n);
  const vals = new Array<string | undefined>(n);
  let size = head.length + tail.length + Math.max(0, n - 1);
  for (let i = 0; i < n; i++) {
    const k = (keys[i] = escaped(jtis[i]!));
    const v = (vals[i] = escaped(sets[i]!));
    size += (k === undefined ? jtis[i]!.length + 2 : Buffer.byteLength(k)) + 1 + (v === undefined ? sets[i]!.length + 2 : Buffer.byteLength(v));
  }
  const buf = Buffer.allocUnsafe(size);
  let o = buf.write(head, 0, 'latin1');
  const put = (raw: string, json: string | undefined) => {
    if (json !== undefined) {
      o += buf.write(json, o, 'utf8');
      return;
    }
    buf[o++] = QUOTE;
    o += buf.write(raw, o, 'latin1');
    buf[o++] = QUOTE;
  };
  for (let i = 0; i < n; i++) {
    if (i > 0) buf[o++] = COMMA;
    put(jtis[i]!, keys[i]);
    buf[o++] = COLON;
    put(sets[i]!, vals[i]);
  }
  o += buf.write(tail, o, 'latin1');
  return o === size ? buf : buf.subarray(0, o);
}
