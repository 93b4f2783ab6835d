import type { Principal } from './scopes.js';

/**
 * The claims rules of a verified JWT access token (RFC 9068), apart from jose's signature, `iss`,
 * `aud` and `exp` checks. Pure: the header and payload come in, a principal or a refusal goes out.
 */

/** RFC 7515 §4.1.9: `typ` is compared case-insensitively and may omit the `application/` prefix. */
const normalType = (typ: string) => typ.toLowerCase().replace(/^application\//, '');

/**
 * RFC 9068 §2.1 and §4: a JWT access token carries `typ: at+jwt`, and a resource server rejects
 * any other value, so that another JWT signed by the same issuer (an ID token, a logout token, a
 * SET) cannot be replayed as an access token (RFC 8725 §3.11).
 *
 * With `requireAtTyp` off, for issuers that predate RFC 9068, a token without `typ` or with the
 * generic `JWT` of RFC 7519 §5.1 is also taken: neither says what the token is for, and those are
 * what such issuers put on their access tokens. A `typ` naming any other kind of JWT
 * (`secevent+jwt`, `logout+jwt`, `dpop+jwt`, …) still says the token is not an access token and is
 * refused.
 */
export function accessTokenTypOk(typ: unknown, requireAtTyp: boolean): boolean {
  if (typ === undefined) return !requireAtTyp;
  if (typeof typ !== 'string') return false;
  const t = normalType(typ);
  return t === 'at+jwt' || (!requireAtTyp && t === 'jwt');
}

/**
 * The owner key of a JWT principal: issuer, client and subject (RFC 9068 §2.2), so the users of
 * one OAuth client each own their own streams and async requests. JSON-encoding the components
 * keeps them apart whatever characters the claims hold (a `|` or `"` in a `sub` cannot forge
 * another principal's key), and `null` marks a token without `client_id`.
 */
export function jwtPrincipalId(iss: string, clientId: string | undefined, sub: string): string {
  return `jwt:${JSON.stringify([iss, clientId ?? null, sub])}`;
}

/**
 * RFC 9068 §2.2.3 / RFC 8693 §4.2: `scope` is one space-separated string; some issuers send an
 * array of strings instead. An absent claim grants no scope; any other shape is not a token this
 * server understands (undefined: refused).
 */
export function scopesOf(raw: unknown): Set<string> | undefined {
  if (raw === undefined) return new Set();
  if (typeof raw === 'string') return new Set(raw.split(/\s+/).filter(Boolean));
  if (Array.isArray(raw) && raw.every((s) => typeof s === 'string')) return new Set(raw as string[]);
  return undefined;
}

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v !== '';

/**
 * The principal of a verified access token, or undefined when its claims are not usable:
 * `iss` and `sub` are required non-empty strings (RFC 9068 §2.2 makes `sub` REQUIRED), `client_id`
 * is a non-empty string when present, and the scope claim has one of the shapes above.
 */
export function principalFromClaims(payload: Record<string, unknown>, scopeClaim: string): Principal | undefined {
  const { iss, sub, client_id: clientId } = payload;
  if (!nonEmptyString(iss) || !nonEmptyString(sub)) return undefined;
  if (clientId !== undefined && !nonEmptyString(clientId)) return undefined;
  const scopes = scopesOf(payload[scopeClaim]);
  if (!scopes) return undefined;
  return { id: jwtPrincipalId(iss, clientId, sub), kind: 'jwt', scopes };
}
