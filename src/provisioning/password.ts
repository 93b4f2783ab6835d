import { randomBytes } from 'node:crypto';
import type { ResourceTypeName } from '../scim/resource-types.js';
import { isObject } from '../core/is-object.js';

/**
 * `password` is writeOnly and returned never (RFC 7643 §4.1.1); scimcast does not authenticate
 * users with it, but a cleartext password must not sit in the database either. It is stored as an
 * scrypt hash (RFC 7643 §7 allows a service provider to hash it), in the form
 * `scrypt$N$r$p$<salt>$<key>` (salt and key base64url), which rows already stored keep.
 *
 * One hash costs about 50 ms of CPU and 16 MiB (128·N·r bytes) on purpose: that cost is what makes
 * a leaked table expensive to attack, so it is not lowered. What changes is where it runs: never
 * on the event loop (a 2,000-user /Bulk would stop every request, probe and worker heartbeat for
 * minutes), and as far as the shape allows never inside a database transaction (a batch would
 * hold its connection and row locks for N × 50 ms). The work itself runs in scrypt-pool.ts.
 */
export const SCRYPT_COST = { N: 16384, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;

export type ScryptCost = { readonly N: number; readonly r: number; readonly p: number };

/** Derive an scrypt key without blocking the caller's thread. */
export type Scrypt = (password: string, salt: Buffer, keyBytes: number, cost: ScryptCost) => Promise<Buffer>;

export interface PasswordHasher {
  /** The stored form of one cleartext password, with a fresh salt. */
  hash(cleartext: string): Promise<string>;
  /**
   * How many hashes run at once behind `hash`. A caller with many passwords keeps no more than
   * this many of its own waiting, so a single request arriving during a large /Bulk waits for a
   * handful of hashes, not for the whole bulk's.
   */
  readonly parallelism: number;
}

export function formatScrypt(cost: ScryptCost, salt: Buffer, key: Buffer): string {
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** The hasher scimcast uses, over any scrypt implementation (the pool in production). */
export function makePasswordHasher(scrypt: Scrypt, parallelism: number, salt: () => Buffer = () => randomBytes(SALT_BYTES)): PasswordHasher {
  return {
    parallelism,
    async hash(cleartext) {
      const s = salt();
      return formatScrypt(SCRYPT_COST, s, await scrypt(cleartext, s, KEY_BYTES, SCRYPT_COST));
    },
  };
}

/** `items` mapped through `fn` with at most `width` calls pending at once; results in order. */
async function inWindow<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, width), items.length) }, lane));
  return out;
}

/** The document with its cleartext `password` replaced by the stored form (other documents as they are). */
export async function protectPassword(doc: Record<string, unknown>, hasher: PasswordHasher): Promise<Record<string, unknown>> {
  const pw = doc.password;
  if (typeof pw !== 'string') return doc;
  return { ...doc, password: await hasher.hash(pw) };
}

/** `protectPassword` for a batch, keeping at most `hasher.parallelism` of its hashes waiting. */
export function protectPasswords(docs: readonly Record<string, unknown>[], hasher: PasswordHasher): Promise<Record<string, unknown>[]> {
  return inWindow(docs, hasher.parallelism, (d) => protectPassword(d, hasher));
}

/** Attribute names are case-insensitive (RFC 7643 §2.1); a path may carry the core schema URN (RFC 7644 §3.10). */
const PASSWORD_PATH = /^\s*(urn:ietf:params:scim:schemas:core:2\.0:user:)?password\s*$/i;
const valueOf = (o: Record<string, unknown>, name: string) => Object.entries(o).filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);
const passwordKeysOf = (o: Record<string, unknown>) =>
  Object.entries(o)
    .filter(([k, v]) => PASSWORD_PATH.test(k) && typeof v === 'string')
    .map(([, v]) => v as string);

/**
 * The cleartext passwords a request may set, read from the raw body before it is validated, so
 * that they can be hashed before the operation's transaction opens: a POST or PUT body's
 * `password`, a PATCH operation's `password` value (RFC 7644 §3.5.2). Only a hint: a password
 * missed here is still hashed when the operation stores it, only inside its transaction; one found
 * here that the operation then refuses costs a hash and nothing else.
 */
export function passwordsIn(method: string, type: ResourceTypeName, body: unknown): string[] {
  if (type !== 'User' || !isObject(body)) return [];
  if (method === 'POST' || method === 'PUT') return passwordKeysOf(body);
  if (method !== 'PATCH') return [];
  const ops = valueOf(body, 'operations').find(Array.isArray) ?? [];
  return ops.filter(isObject).flatMap((op) => {
    const path = valueOf(op, 'path')[0];
    const values = valueOf(op, 'value');
    if (typeof path === 'string') return PASSWORD_PATH.test(path) ? values.filter((v): v is string => typeof v === 'string') : [];
    return values.filter(isObject).flatMap(passwordKeysOf);
  });
}

/** A hasher with some hashes computed ahead; see `prehash`. */
export interface PrehashedPasswords extends PasswordHasher {
  /**
   * The same precomputed hashes, all unused again: for running the operations one by one after
   * the batch transaction that used them rolled back (none of them was stored).
   */
  replay(): PrehashedPasswords;
}

/**
 * Hash `cleartexts` now, outside any transaction, and return a hasher that hands each of those
 * hashes out once (two users with the same password still get different salts) and hashes
 * anything else on demand.
 */
export async function prehash(hasher: PasswordHasher, cleartexts: readonly string[]): Promise<PrehashedPasswords> {
  const hashes = await inWindow(cleartexts, hasher.parallelism, (pw) => hasher.hash(pw));
  const ready = new Map<string, string[]>();
  cleartexts.forEach((pw, i) => ready.set(pw, [...(ready.get(pw) ?? []), hashes[i]!]));
  const handOut = (): PrehashedPasswords => {
    const left = new Map([...ready].map(([pw, list]) => [pw, [...list]]));
    return {
      parallelism: hasher.parallelism,
      hash: async (pw) => left.get(pw)?.shift() ?? hasher.hash(pw),
      replay: handOut,
    };
  };
  return handOut();
}
