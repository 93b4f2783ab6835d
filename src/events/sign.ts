import { CompactSign, type JWK } from 'jose';
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

export type SetSigner = (claims: SetClaims, opts?: { kidMode?: 'kid' | 'issuer' }) => Promise<string>;

export function makeSetSigner(currentKey: () => Promise<SignerKey>): SetSigner {
  const cache = new Map<string, Awaited<ReturnType<typeof importPrivateKey>>>();
  const encoder = new TextEncoder();
  return async (claims, opts = {}) => {
    const key = await currentKey();
    let k = cache.get(key.kid);
    if (!k) {
      k = await importPrivateKey(key.privateJwk, key.alg);
      cache.set(key.kid, k);
    }
    const kid = opts.kidMode === 'issuer' ? claims.iss : key.kid;
    return new CompactSign(encoder.encode(JSON.stringify(claims))).setProtectedHeader({ alg: key.alg, typ: 'secevent+jwt', kid }).sign(k);
  };
}
