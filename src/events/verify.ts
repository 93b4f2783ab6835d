import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import type { SetClaims } from './claims.js';

/** RFC 8935 §2.4 error codes a receiver reports for a SET it cannot accept. */
export class SetVerifyError extends Error {
  constructor(
    readonly err: 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience',
    readonly description: string,
  ) {
    super(description);
    this.name = 'SetVerifyError';
  }
}

/**
 * Verify a SET: typ secevent+jwt (RFC 8417 §2.3), signature against a JWKS (never alg none),
 * issuer and audience when given. Used by tests and the CLI receiver.
 */
export async function verifySet(jws: string, opts: { jwks: JSONWebKeySet; issuer?: string; audience?: string }): Promise<SetClaims> {
  let header;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    throw new SetVerifyError('invalid_request', 'not a compact JWS');
  }
  const typ = String(header.typ ?? '').toLowerCase().replace(/^application\//, '');
  if (typ !== 'secevent+jwt') throw new SetVerifyError('invalid_request', `typ must be secevent+jwt, got "${header.typ ?? ''}"`);
  if (!header.alg || header.alg === 'none') throw new SetVerifyError('invalid_request', 'unsigned SETs are not accepted');
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(jws, createLocalJWKSet(opts.jwks)));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_JWKS_NO_MATCHING_KEY') throw new SetVerifyError('invalid_key', `no key with kid "${header.kid ?? ''}"`);
    throw new SetVerifyError('invalid_request', 'signature verification failed');
  }
  let claims: SetClaims;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload)) as SetClaims;
  } catch {
    throw new SetVerifyError('invalid_request', 'payload is not JSON');
  }
  if (!claims.events || typeof claims.events !== 'object') throw new SetVerifyError('invalid_request', 'no events claim');
  if (opts.issuer !== undefined && claims.iss !== opts.issuer) throw new SetVerifyError('invalid_issuer', `iss "${claims.iss}" is not "${opts.issuer}"`);
  if (opts.audience !== undefined) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(opts.audience)) throw new SetVerifyError('invalid_audience', `aud does not include ${opts.audience}`);
  }
  return claims;
}
