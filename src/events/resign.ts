import { base64url, CompactSign, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import type { SignerKey } from './sign.js';

/**
 * Re-signing SETs a revoked key signed: the payload bytes stay as they are (same claims, same
 * jti, so receivers de-duplicate a SET they already had), the protected header gets the new
 * key's alg and kid (RFC 7515 §7.1 compact serialization). A SET another key signed is left alone.
 */
export function makeResigner(revoked: { kid: string; alg: string; publicJwk: unknown }, signer: SignerKey): (jws: string) => Promise<string | undefined> {
  let verifyKey: ReturnType<typeof importJWK> | undefined;
  let signKey: ReturnType<typeof importJWK> | undefined;
  return async (jws) => {
    let header;
    try {
      header = decodeProtectedHeader(jws);
    } catch {
      return undefined;
    }
    // kid_mode "kid": the header names the key. kid_mode "issuer": it names the issuer, so only
    // the signature can tell which key signed.
    if (header.kid !== revoked.kid) {
      if (header.alg !== revoked.alg) return undefined;
      verifyKey ??= importJWK(revoked.publicJwk as JWK, revoked.alg);
      try {
        await compactVerify(jws, await verifyKey);
      } catch {
        return undefined;
      }
    }
    const payload = base64url.decode(jws.split('.')[1] ?? '');
    signKey ??= importJWK(signer.privateJwk, signer.alg);
    const kid = header.kid === revoked.kid ? signer.kid : header.kid;
    return new CompactSign(payload).setProtectedHeader({ alg: signer.alg, typ: header.typ ?? 'secevent+jwt', ...(kid === undefined ? {} : { kid }) }).sign(await signKey);
  };
}
