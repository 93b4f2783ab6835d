import { isIP } from 'node:net';
import { badRequest } from '../core/errors.js';
import { forbiddenLiteral, forbiddenResolution, type Resolver } from '../delivery/safe-lookup.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * Push targets (conventions, issue 7 §5): https, or plain http to loopback, or a host named in
 * SCIMCAST_PUSH_ALLOW. IP literals are checked here; names in checkPushTarget; every connection
 * again at connect time (DNS rebinding).
 */
export function checkPushEndpoint(url: string, allow: readonly string[]): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badRequest('invalidValue', `delivery.endpoint_url is not a URL: ${url}`);
  }
  if (u.username || u.password) throw badRequest('invalidValue', 'delivery.endpoint_url must not carry credentials; use authorization_header');
  // IPv6 literals come bracketed from URL; allow-list entries may be written either way.
  const bare = (h: string) => h.toLowerCase().replace(/^\[|\]$/g, '');
  const host = u.hostname.toLowerCase();
  if (allow.map(bare).includes(bare(host))) return u;
  if (forbiddenLiteral(host, allow)) throw badRequest('invalidValue', `delivery.endpoint_url points at a private or link-local address (${host}); allow-list it in SCIMCAST_PUSH_ALLOW if intended`);
  if (u.protocol === 'https:') return u;
  // 127/8 as an address only: a name like 127.example.com is an ordinary (remote) host.
  if (u.protocol === 'http:' && (LOOPBACK.has(host) || (isIP(host) === 4 && host.startsWith('127.')))) return u;
  throw badRequest('invalidValue', `delivery.endpoint_url must be https (plain http only to loopback or hosts in SCIMCAST_PUSH_ALLOW): ${url}`);
}

/**
 * checkPushEndpoint, then the name's current addresses (issue 7 §5: a target that resolves to a
 * private, link-local or metadata address is refused at registration), unless allow-listed.
 */
export async function checkPushTarget(url: string, allow: readonly string[], resolve?: Resolver): Promise<URL> {
  const u = checkPushEndpoint(url, allow);
  const bad = await forbiddenResolution(u.hostname, allow, resolve);
  if (bad) throw badRequest('invalidValue', `delivery.endpoint_url ${u.hostname} resolves to a private or link-local address (${bad}); allow-list it in SCIMCAST_PUSH_ALLOW if intended`);
  return u;
}
