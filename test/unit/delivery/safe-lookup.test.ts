import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { forbiddenLiteral, isForbiddenAddress, makeSafeLookup } from '../../../src/delivery/safe-lookup.js';

describe('push target address checks (issue 7 §5)', () => {
  it.each([
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.32.0.1', false],
    ['192.168.0.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['127.0.0.1', false],
    ['8.8.8.8', false],
    ['fd12::1', true],
    ['fe80::1', true],
    ['::ffff:10.0.0.1', true],
    ['::1', false],
  ])('%s forbidden=%s', (ip, forbidden) => {
    expect(isForbiddenAddress(ip)).toBe(forbidden);
  });

  it('IP literals are checked without DNS; the allow-list wins', () => {
    expect(forbiddenLiteral('10.0.0.1', [])).toBe(true);
    expect(forbiddenLiteral('[fd00::1]', [])).toBe(true);
    expect(forbiddenLiteral('10.0.0.1', ['10.0.0.1'])).toBe(false);
    expect(forbiddenLiteral('receiver.example.com', [])).toBe(false);
  });

  it('a name that resolves to a private address is refused at connect time (DNS rebinding), unless allow-listed', async () => {
    // An injected resolver: no DNS query and no connection leave this machine.
    const resolver = (_h: string, _o: { all: true }, cb: (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) => cb(null, [{ address: '10.9.8.7', family: 4 }]);
    const lookup = (allow: string[]) =>
      new Promise<{ err: Error | null; address: unknown }>((r) => makeSafeLookup(allow, resolver)('rebind.example', {}, (err, address) => r({ err, address })));
    const refused = await lookup([]);
    expect(refused.err?.message).toMatch(/forbidden address 10\.9\.8\.7/);
    const allowed = await lookup(['rebind.example']);
    expect(allowed.err).toBeNull();
    expect(allowed.address).toBe('10.9.8.7');
  });
});
