import { createHash, randomBytes } from 'node:crypto';

/**
 * Opaque bearer tokens: `sct_<id>_<secret>`. Only the SHA-256 of the whole token is stored,
 * so a database leak does not leak usable tokens; the id part lets operators name a token
 * in logs and revocation without the secret.
 */
export function newOpaqueToken(): { id: string; token: string } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `sct_${id}_${secret}` };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A JWT has three base64url parts separated by dots; opaque tokens never contain a dot. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
