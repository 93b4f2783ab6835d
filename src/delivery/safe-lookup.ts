import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

/**
 * Addresses a push must never reach unless the host is allow-listed (issue 7 §5): private,
 * link-local (incl. cloud metadata 169.254.169.254), CGNAT, unique-local and unspecified ranges.
 * Loopback is allowed (local receivers, tests) — the registration check already limits plain http.
 */
export function isForbiddenAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return a === 10 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  }
  const v = ip.toLowerCase();
  if (v.startsWith('::ffff:')) return isForbiddenAddress(v.slice(7));
  return v === '::' || v.startsWith('fc') || v.startsWith('fd') || v.startsWith('fe80');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

type Resolver = (hostname: string, options: { all: true }, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * An IP-literal target never goes through DNS (node skips lookup for literals), so it is
 * checked here, before any connection is attempted.
 */
export function forbiddenLiteral(hostname: string, allow: readonly string[]): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return isIP(host) !== 0 && isForbiddenAddress(host) && !allow.map((h) => h.toLowerCase()).includes(host.toLowerCase());
}

/** A dns.lookup that refuses forbidden addresses at connect time (DNS rebinding), unless allow-listed. */
export function makeSafeLookup(allow: readonly string[], resolve: Resolver = dnsLookup as unknown as Resolver) {
  const allowed = new Set(allow.map((h) => h.toLowerCase()));
  return (hostname: string, options: object, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      if (!allowed.has(hostname.toLowerCase())) {
        const bad = list.find((a) => isForbiddenAddress(a.address));
        if (bad) {
          const e = Object.assign(new Error(`push target ${hostname} resolves to a forbidden address ${bad.address}`), { code: 'ERR_PUSH_FORBIDDEN_ADDRESS' });
          return callback(e, []);
        }
      }
      if ((options as { all?: boolean }).all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
