import { isIP } from 'node:net';
import { badRequest } from '../core/errors.js';
import { forbiddenLiteral, forbiddenResolution, isLoopbackAddress, type Resolver, type TargetPolicy } from '../delivery/safe-lookup.js';

/** `localhost` and the names under it are loopback whatever DNS says (RFC 6761 §6.3). */
const isLoopbackName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

/**
 * Push targets (RFC 8935 §4 asks for TLS; the rest guards against SSRF): https, or a host named in SCIMCAST_PUSH_ALLOW, or
 * loopback (plain http too) while this server itself listens on loopback (TargetPolicy).
 * IP literals are checked here; names in checkPushTarget; every connection again at connect time
 * (DNS rebinding).
 */
export function checkPushEndpoint(url: string, policy: TargetPolicy): URL {
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
  if (policy.allow.map(bare).includes(bare(host))) return u;
  // 127/8 as an address only: a name like 127.example.com is an ordinary (remote) host.
  const literal = isIP(bare(host)) !== 0 && isLoopbackAddress(bare(host));
  if ((literal || isLoopbackName(host)) && !policy.loopback) {
    throw badRequest('invalidValue', `delivery.endpoint_url points at loopback (${host}); push reaches loopback only while this server listens on loopback (HOST), or when the host is allow-listed in SCIMCAST_PUSH_ALLOW`);
  }
  if (forbiddenLiteral(host, policy)) throw badRequest('invalidValue', `delivery.endpoint_url points at a private or link-local address (${host}); allow-list it in SCIMCAST_PUSH_ALLOW if intended`);
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:' && (literal || host === 'localhost')) return u;
  throw badRequest('invalidValue', `delivery.endpoint_url must be https (plain http only to loopback or hosts in SCIMCAST_PUSH_ALLOW): ${url}`);
}

/**
 * checkPushEndpoint, then the name's current addresses (issue 7 §5: a target that resolves to a
 * private, link-local, metadata or, under the policy, loopback address is refused at
 * registration), unless allow-listed. The detail names no address: what this server's resolver
 * answers for a name is not the stream owner's to learn.
 */
export async function checkPushTarget(url: string, policy: TargetPolicy, resolve?: Resolver): Promise<URL> {
  const u = checkPushEndpoint(url, policy);
  const bad = await forbiddenResolution(u.hostname, policy, resolve);
  if (bad) {
    throw badRequest('invalidValue', `delivery.endpoint_url ${u.hostname} resolves to a private, link-local or loopback address, which push does not reach; allow-list it in SCIMCAST_PUSH_ALLOW if intended`);
  }
  return u;
}
