import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Principal } from './scopes.js';

/**
 * JWT access tokens (issue 2 §5b), verified with jose against a configured issuer, audience and
 * JWKS. Asymmetric algorithms only: `alg: none` and HMAC are never accepted (issue 10 §5).
 * jose is confined to src/events and src/auth (architecture B2, extended: access tokens are not SETs).
 */
export interface JwtVerifierConfig {
  issuer: string;
  audience: string;
  jwksUrl: string;
  scopeClaim: string;
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export type JwtVerifier = (token: string) => Promise<Principal | undefined>;

export function makeJwtVerifier(cfg: JwtVerifierConfig, getKey?: JWTVerifyGetKey): JwtVerifier {
  const keys = getKey ?? createRemoteJWKSet(new URL(cfg.jwksUrl));
  return async (token) => {
    try {
      // RFC 9068 §2.2: an access token carries `exp`; one without would be valid forever.
      const { payload } = await jwtVerify(token, keys, { issuer: cfg.issuer, audience: cfg.audience, algorithms: ALGORITHMS, requiredClaims: ['exp'] });
      const raw = payload[cfg.scopeClaim];
      const scopes = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(/\s+/).filter(Boolean) : [];
      const subject = String(payload.client_id ?? payload.sub ?? '');
      if (!subject) return undefined;
      return { id: `jwt:${cfg.issuer}|${subject}`, kind: 'jwt', scopes: new Set(scopes) };
    } catch {
      return undefined;
    }
  };
}
