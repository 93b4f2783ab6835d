import { exportJWK, generateKeyPair, type JWK } from 'jose';

/** SET signing keys: ES256 by default; RS256 and EdDSA selectable (RFC 7518 §3.1, RFC 8037 §3.1). */
export type SigningAlg = 'ES256' | 'RS256' | 'EdDSA';

export interface KeyMaterial {
  kid: string;
  alg: SigningAlg;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function generateSigningKey(alg: SigningAlg, kid: string): Promise<KeyMaterial> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
  return { kid, alg, privateJwk, publicJwk };
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** The JWKS document (RFC 7517 §5): public members only, whatever was stored. */
export function publicJwks(keys: readonly { publicJwk: unknown }[]): { keys: JWK[] } {
  return {
    keys: keys.map((k) => Object.fromEntries(Object.entries(k.publicJwk as JWK).filter(([m]) => !PRIVATE_MEMBERS.includes(m))) as JWK),
  };
}
