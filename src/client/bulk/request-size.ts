import type { WireMember, WireOp } from './operations.js';

export const BULK_REQUEST_URN = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

/** UTF-8 bytes of a value as JSON.stringify writes it: what goes on the wire. */
export const jsonBytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v), 'utf8');

/** The BulkRequest body exactly as sent (RFC 7644 §3.7). */
export function bulkRequestBody(ops: readonly WireOp[], failOnErrors?: number): string {
  const body: Record<string, unknown> = { schemas: [BULK_REQUEST_URN] };
  if (failOnErrors !== undefined) body.failOnErrors = failOnErrors;
  body.Operations = ops;
  return JSON.stringify(body);
}

/**
 * Tracks the size of a BulkRequest while operations are added, measured the way the server
 * measures `maxPayloadSize` (RFC 7644 §3.7.4): bytes of the serialized body. JSON.stringify puts
 * no whitespace, so the body is the envelope plus each operation plus one comma between two:
 * the count is exact, not an estimate (a unit test checks it against the real body).
 */
export class RequestBudget {
  readonly maxOperations: number;
  readonly maxBytes: number;
  private bytes: number;
  private ops = 0;

  constructor(limits: { maxOperations: number; maxBytes: number }, failOnErrors?: number) {
    this.maxOperations = limits.maxOperations;
    this.maxBytes = limits.maxBytes;
    this.bytes = Buffer.byteLength(bulkRequestBody([], failOnErrors), 'utf8');
  }

  get size(): number {
    return this.bytes;
  }

  get count(): number {
    return this.ops;
  }

  get full(): boolean {
    return this.ops >= this.maxOperations;
  }

  /** Bytes left for one more operation's own JSON (after its separating comma). */
  get room(): number {
    return this.maxBytes - this.bytes - (this.ops > 0 ? 1 : 0);
  }

  fits(opBytes: number): boolean {
    return !this.full && opBytes <= this.room;
  }

  add(opBytes: number): void {
    this.bytes += opBytes + (this.ops > 0 ? 1 : 0);
    this.ops++;
  }
}

/**
 * The largest prefix of `members` that keeps `build(prefix)` within `room` bytes. Each member adds
 * its own JSON plus a comma after the first, to the one array `build` puts them in. Returns the
 * op and how many members it took (0 when even the empty op does not fit: `op` undefined).
 */
export function fitMembers(
  build: (members: readonly WireMember[]) => WireOp,
  members: readonly WireMember[],
  room: number,
): { op: WireOp | undefined; taken: number; bytes: number } {
  const empty = jsonBytes(build([]));
  if (empty > room) return { op: undefined, taken: 0, bytes: empty };
  let bytes = empty;
  let taken = 0;
  for (const m of members) {
    const add = jsonBytes(m) + (taken > 0 ? 1 : 0);
    if (bytes + add > room) break;
    bytes += add;
    taken++;
  }
  return { op: build(members.slice(0, taken)), taken, bytes };
}
