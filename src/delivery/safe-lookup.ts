import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { AppError } from '../core/errors.js';

/**
 * Who a push may reach besides public addresses: the hosts named in SCIMCAST_PUSH_ALLOW, and
 * loopback only while this server itself listens on loopback. A server listening there is used
 * from this machine (the local walkthroughs push to a receiver next to it); on any other address
 * a stream owner is a remote client, and loopback targets would let them reach, and probe, the
 * services of the server's own host. See docs/decisions/0008-loopback-push.md.
 */
export interface TargetPolicy {
  readonly allow: readonly string[];
  readonly loopback: boolean;
}

/**
 * Addresses a push must never reach unless the host is allow-listed (a guard against server-side
 * request forgery): private, link-local (incl. cloud metadata 169.254.169.254), CGNAT,
 * unique-local and unspecified ranges.
 * Loopback is not among them: `refusedAddress` decides it by the policy.
 */
export function isForbiddenAddress(ip: string): boolean {
  if (isIP(ip) === 4) return forbiddenV4(ip.split('.').map(Number) as [number, number, number, number]);
  const g = ipv6Groups(ip);
  if (!g) return true; // not an address we can classify: refuse rather than guess
  const embedded = embeddedV4(g);
  if (embedded) return forbiddenV4(embedded);
  const [a] = g as [number];
  return (
    g.every((x) => x === 0) || // :: unspecified
    (a & 0xfe00) === 0xfc00 || // fc00::/7 unique-local (incl. AWS fd00:ec2::254)
    (a & 0xffc0) === 0xfe80 || // fe80::/10 link-local
    (a & 0xffc0) === 0xfec0 || // fec0::/10 site-local (deprecated, still routed by some stacks)
    (a & 0xff00) === 0xff00 // ff00::/8 multicast
  );
}

/** RFC 6890 special-purpose IPv4 blocks a push must not reach; 127/8 is the policy's (see above). */
function forbiddenV4([a, b]: [number, number, number, number]): boolean {
  return (
    a === 0 || // "this network"
    a === 10 ||
    (a === 100 && b >= 64 && b <= 127) || // CGNAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) || // 192.0.0.0/24 protocol assignments (incl. Oracle metadata 192.0.0.192)
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a >= 224 // multicast, reserved, broadcast
  );
}

/**
 * Loopback: 127.0.0.0/8 (RFC 6890), ::1, and the IPv6 forms that carry a 127/8 address (a
 * connection to ::ffff:127.0.0.1 reaches this host as well).
 */
export function isLoopbackAddress(ip: string): boolean {
  if (isIP(ip) === 4) return ip.split('.')[0] === '127';
  const g = ipv6Groups(ip);
  if (!g) return false;
  const embedded = embeddedV4(g);
  if (embedded) return embedded[0] === 127;
  return g.slice(0, 7).every((x) => x === 0) && g[7] === 1;
}

/** An address a push under this policy must not reach (allow-listed hosts are decided by name before). */
export function refusedAddress(ip: string, policy: TargetPolicy): boolean {
  return isForbiddenAddress(ip) || (!policy.loopback && isLoopbackAddress(ip));
}

/**
 * IPv6 forms that carry an IPv4 address a connection would really reach: IPv4-mapped
 * (::ffff:a.b.c.d, which WHATWG URL parsing turns into ::ffff:a9fe:a9fe), IPv4-compatible
 * (::a.b.c.d), NAT64 (64:ff9b::/96, RFC 6052) and 6to4 (2002::/16, RFC 3056).
 */
function embeddedV4(g: number[]): [number, number, number, number] | undefined {
  const v4 = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff] as [number, number, number, number];
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return v4(g[6]!, g[7]!);
  if (zeros(0, 6) && (g[6]! !== 0 || g[7]! > 1)) return v4(g[6]!, g[7]!); // ::a.b.c.d, not :: or ::1
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (with `::` and a dotted IPv4 tail), or undefined. */
function ipv6Groups(ip: string): number[] | undefined {
  let v = ip.toLowerCase().replace(/%.*$/, ''); // zone id
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (dotted) {
    const [p, q, r, s] = dotted.slice(1).map(Number) as [number, number, number, number];
    v = `${v.slice(0, dotted.index)}${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`;
  }
  const halves = v.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string) => (h === '' ? [] : h.split(':').map((x) => (/^[0-9a-f]{1,4}$/.test(x) ? parseInt(x, 16) : NaN)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<number>(Math.max(0, fill)).fill(0), ...tail];
  return groups.length === 8 && groups.every((x) => !Number.isNaN(x)) ? groups : undefined;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

export type Resolver = (hostname: string, options: { all: true }, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const bare = (h: string) => h.toLowerCase().replace(/^\[|\]$/g, '');
const allowListed = (hostname: string, policy: TargetPolicy) => policy.allow.some((h) => bare(h) === bare(hostname));

/**
 * An IP-literal target never goes through DNS (node skips lookup for literals), so it is
 * checked here, before any connection is attempted.
 */
export function forbiddenLiteral(hostname: string, policy: TargetPolicy): boolean {
  const host = bare(hostname);
  return isIP(host) !== 0 && refusedAddress(host, policy) && !allowListed(host, policy);
}

/**
 * A dns.lookup that refuses forbidden addresses at connect time (DNS rebinding), unless allow-listed.
 * The error names no address: its code is all the push client passes on (an owner is not told
 * what this server's resolver answers).
 */
export function makeSafeLookup(policy: TargetPolicy, resolve: Resolver = dnsLookup as unknown as Resolver) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      if (!allowListed(hostname, policy) && list.some((a) => refusedAddress(a.address, policy))) {
        const e = new AppError('ERR_PUSH_FORBIDDEN_ADDRESS', `push target ${hostname} resolves to an address push may not reach`);
        return callback(e, []);
      }
      if ((options as { all?: boolean }).all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/**
 * The registration-time half of the target check: the first address `hostname` resolves to that
 * a push must not reach, or undefined. A name that does not resolve (yet), or not within `timeoutMs`, is
 * let through: the connect-time lookup above still refuses it if it later points somewhere forbidden.
 */
export function forbiddenResolution(hostname: string, policy: TargetPolicy, resolve: Resolver = dnsLookup as unknown as Resolver, timeoutMs = 3000): Promise<string | undefined> {
  const host = bare(hostname);
  if (isIP(host) !== 0 || allowListed(host, policy)) return Promise.resolve(undefined);
  return new Promise((done) => {
    const timer = setTimeout(() => done(undefined), timeoutMs);
    timer.unref?.();
    resolve(host, { all: true }, (err, addresses) => {
      clearTimeout(timer);
      done(err ? undefined : addresses.find((a) => refusedAddress(a.address, policy))?.address);
    });
  });
}
