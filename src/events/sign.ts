import { CompactSign, type JWK } from 'jose';
import type { Storage } from '../storage/index.js';
import type { SetClaims } from './claims.js';
import { importPrivateKey } from './keys.js';

/**
 * Sign a SET as a compact JWS with `typ: secevent+jwt` (SET-10, RFC 8417 §2.3). `kidMode: 'issuer'`
 * puts the issuer in `kid` for receivers that look keys up by issuer (spec-digest §4.3, i2scim).
 */
export interface SignerKey {
  kid: string;
  alg: string;
  privateJwk: JWK;
}

/**
 * `storage` is the caller's transaction: a SET is signed while its change's transaction holds a
 * pooled connection, so the key, when it must be read, is read on that connection. Reading it
 * through the pool instead deadlocked the server once every pooled connection was such a
 * transaction (64 clients creating users with a stream attached, 20 connections).
 */
export type SetSigner = (claims: SetClaims, opts: { storage: Storage; kidMode?: 'kid' | 'issuer' }) => Promise<string>;

export function makeSetSigner(currentKey: (storage: Storage) => Promise<SignerKey>): SetSigner {
  const cache = new Map<string, Awaited<ReturnType<typeof importPrivateKey>>>();
  const encoder = new TextEncoder();
  return async (claims, opts) => {
    const key = await currentKey(opts.storage);
    let k = cache.get(key.kid);
    if (!k) {
      k = await importPrivateKey(key.privateJwk, key.alg);
      cache.set(key.kid, k);
    }
    const kid = opts.kidMode === 'issuer' ? claims.iss : key.kid;
    return new CompactSign(encoder.encode(JSON.stringify(claims))).setProtectedHeader({ alg: key.alg, typ: 'secevent+jwt', kid }).sign(k);
  };
}
