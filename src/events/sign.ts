import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { Storage } from '../storage/index.js';
import type { SetClaims } from './claims.js';

/**
 * Sign a SET as a compact JWS with `typ: secevent+jwt` (RFC 8417 §2.3). `kidMode: 'issuer'`
 * puts the issuer in `kid`, for receivers (i2scim among them) that look keys up by issuer.
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
  const cache = new Map<string, KeyObject>();
  return async (claims, opts) => {
    const key = await currentKey(opts.storage);
    let k = cache.get(key.kid);
    if (!k) {
      k = createPrivateKey({ key: key.privateJwk as import('node:crypto').JsonWebKey, format: 'jwk' });
      cache.set(key.kid, k);
    }
    const kid = opts.kidMode === 'issuer' ? claims.iss : key.kid;
    return compactSign(key.alg, k, { alg: key.alg, typ: 'secevent+jwt', kid }, claims);
  };
}

/** node:crypto's sign() per JWS alg (RFC 7518 §3.1; EdDSA: RFC 8037 §3.1). */
const SIGN_ARGS: Record<string, { hash: string | null; dsaEncoding?: 'ieee-p1363' }> = {
  ES256: { hash: 'sha256', dsaEncoding: 'ieee-p1363' },
  RS256: { hash: 'sha256' },
  EdDSA: { hash: null },
};

/**
 * A compact JWS (RFC 7515 §7.1) signed by OpenSSL on libuv's thread pool. The fan-out signs
 * thousands of SETs per batch: WebCrypto through jose cost about four times OpenSSL's own time
 * per signature on the worker's thread (bench:fanout-profile), while this keeps the thread free
 * for building claims and storing. jose still verifies them in the tests, byte for byte standard.
 */
export function compactSign(alg: string, key: KeyObject, header: Record<string, string>, payload: unknown): Promise<string> {
  const args = SIGN_ARGS[alg];
  if (!args) return Promise.reject(new Error(`unsupported signing alg ${alg}`));
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  const keyArg = args.dsaEncoding ? { key, dsaEncoding: args.dsaEncoding } : key;
  return new Promise((resolve, reject) =>
    sign(args.hash, Buffer.from(input), keyArg, (err, sig) => (err ? reject(err) : resolve(`${input}.${sig.toString('base64url')}`))),
  );
}

const b64 = (text: string) => Buffer.from(text).toString('base64url');
