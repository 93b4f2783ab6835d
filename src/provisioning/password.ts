import { randomBytes, scryptSync } from 'node:crypto';

/**
 * `password` is writeOnly and returned never (RFC 7643 §4.1.1); scimcast does not authenticate
 * users with it, but a cleartext password must not sit in the database either. It is stored as an
 * scrypt hash (RFC 7643 §7 allows a service provider to hash it).
 */
export function protectPassword(doc: Record<string, unknown>): Record<string, unknown> {
  const pw = doc.password;
  if (typeof pw !== 'string') return doc;
  const salt = randomBytes(16);
  const hash = scryptSync(pw, salt, 32, { N: 16384, r: 8, p: 1 });
  return { ...doc, password: `scrypt$16384$8$1$${salt.toString('base64url')}$${hash.toString('base64url')}` };
}
