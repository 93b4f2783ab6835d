import { isIP } from 'node:net';
import { badRequest } from '../core/errors.js';
import { forbiddenLiteral, forbiddenResolution, isLoopbackAddress, type Resolver, type TargetPolicy } from '../delivery/safe-lookup.js';

/** `localhost` and the names under it are loopback whatever DNS says (RFC 6761 §6.3). */
const isLoopbackName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

/**
 * How a refusal names the target: the member it came in, and whether the URL itself may be quoted.
 * A per-request callback URL may carry a token in its query, so its refusals never quote it.
 */
export interface TargetLabel {
  readonly field: string;
  readonly quoteUrl: boolean;
}

const ENDPOINT_URL: TargetLabel = { field: 'delivery.endpoint_url', quoteUrl: true };

/**
 * Push targets (RFC 8935 §4 asks for TLS; the rest guards against SSRF): https, or a host named in SCIMCAST_PUSH_ALLOW, or
 * loopback (plain http too) while this server itself listens on loopback (TargetPolicy,
 * docs/decisions/0008-loopback-push.md).
 * IP literals are checked here; names in checkPushTarget; every connection again at connect time
 * (DNS rebinding).
 */
export function checkPushEndpoint(url: string, policy: TargetPolicy, label: TargetLabel = ENDPOINT_URL): URL {
  const field = label.field;
  const quoted = label.quoteUrl ? `: ${url}` : '';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badRequest('invalidValue', `${field} is not a URL${quoted}`);
  }
  if (u.username || u.password) throw badRequest('invalidValue', `${field} must not carry credentials${label.quoteUrl ? '; use authorization_header' : ''}`);
  // IPv6 literals come bracketed from URL; allow-list entries may be written either way.
  const bare = (h: string) => h.toLowerCase().replace(/^\[|\]$/g, '');
  const host = u.hostname.toLowerCase();
  if (policy.allow.map(bare).includes(bare(host))) return u;
  // 127/8 as an address only: a name like 127.example.com is an ordinary (remote) host.
  const literal = isIP(bare(host)) !== 0 && isLoopbackAddress(bare(host));
  if ((literal || isLoopbackName(host)) && !policy.loopback) {
    throw badRequest('invalidValue', `${field} points at loopback (${host}); push reaches loopback only while this server listens on loopback (HOST), or when the host is allow-listed in SCIMCAST_PUSH_ALLOW`);
  }
  if (forbiddenLiteral(host, policy)) throw badRequest('invalidValue', `${field} points at a private or link-local address (${host}); allow-list it in SCIMCAST_PUSH_ALLOW if intended`);
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:' && (literal || host === 'localhost')) return u;
  throw badRequest('invalidValue', `${field} must be https (plain http only to loopback or hosts in SCIMCAST_PUSH_ALLOW)${quoted}`);
}

/**
 * checkPushEndpoint, then the name's current addresses (a target that resolves to a
 * private, link-local, metadata or, under the policy, loopback address is refused at
 * registration), unless allow-listed. The detail names no address: what this server's resolver
 * answers for a name is not the stream owner's to learn.
 */
export async function checkPushTarget(url: string, policy: TargetPolicy, resolve?: Resolver, label: TargetLabel = ENDPOINT_URL): Promise<URL> {
  const u = checkPushEndpoint(url, policy, label);
  const bad = await forbiddenResolution(u.hostname, policy, resolve);
  if (bad) {
    throw badRequest('invalidValue', `${label.field} ${u.hostname} resolves to a private, link-local or loopback address, which push does not reach; allow-list it in SCIMCAST_PUSH_ALLOW if intended`);
  }
  return u;
}
