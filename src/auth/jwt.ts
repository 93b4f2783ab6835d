import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { accessTokenTypOk, principalFromClaims } from './access-token-claims.js';
import type { Principal } from './scopes.js';

/**
 * JWT access tokens (RFC 9068), verified with jose against a configured issuer, audience and
 * JWKS. Asymmetric algorithms only: `alg: none` and HMAC are never accepted, so a token cannot
 * choose an algorithm that turns a public key into a shared secret (RFC 8725 §2.1, §3.1).
 * jose is allowed in src/auth as well as src/events because access tokens are not SETs.
 */
export interface JwtVerifierConfig {
  issuer: string;
  audience: string;
  jwksUrl: string;
  scopeClaim: string;
  /** RFC 9068 §4: only `typ: at+jwt` is an access token (see accessTokenTypOk). */
  requireAtTyp: boolean;
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export type JwtVerifier = (token: string) => Promise<Principal | undefined>;

export function makeJwtVerifier(cfg: JwtVerifierConfig, getKey?: JWTVerifyGetKey): JwtVerifier {
  const keys = getKey ?? createRemoteJWKSet(new URL(cfg.jwksUrl));
  return async (token) => {
    try {
      // RFC 9068 §2.2: an access token carries `exp` (one without would be valid forever) and `sub`.
      const { payload, protectedHeader } = await jwtVerify(token, keys, {
        issuer: cfg.issuer,
        audience: cfg.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
      });
      if (!accessTokenTypOk(protectedHeader.typ, cfg.requireAtTyp)) return undefined;
      return principalFromClaims(payload, cfg.scopeClaim);
    } catch {
      return undefined;
    }
  };
}
