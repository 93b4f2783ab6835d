import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { forbiddenLiteral, isForbiddenAddress, isLoopbackAddress, makeSafeLookup, refusedAddress } from '../../../src/delivery/safe-lookup.js';

describe('push target address checks (no private, link-local or metadata addresses)', () => {
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

  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:2', true],
    ['64:ff9b::7f00:1', true],
    ['128.0.0.1', false],
    ['::2', false],
    ['::', false],
    ['8.8.8.8', false],
  ])('%s loopback=%s; refused by a policy without loopback only then', (ip, loopback) => {
    expect(isLoopbackAddress(ip)).toBe(loopback);
    expect(refusedAddress(ip, { allow: [], loopback: false })).toBe(loopback || isForbiddenAddress(ip));
    expect(refusedAddress(ip, { allow: [], loopback: true })).toBe(isForbiddenAddress(ip));
  });

  it('a loopback literal is refused unless the policy allows loopback or the allow-list names it', () => {
    expect(forbiddenLiteral('127.0.0.1', { allow: [], loopback: false })).toBe(true);
    expect(forbiddenLiteral('[::1]', { allow: [], loopback: false })).toBe(true);
    expect(forbiddenLiteral('127.0.0.1', { allow: [], loopback: true })).toBe(false);
    expect(forbiddenLiteral('[::1]', { allow: ['::1'], loopback: false })).toBe(false);
  });

  it('IP literals are checked without DNS; the allow-list wins', () => {
    const policy = (allow: string[]) => ({ allow, loopback: true });
    expect(forbiddenLiteral('10.0.0.1', policy([]))).toBe(true);
    expect(forbiddenLiteral('[fd00::1]', policy([]))).toBe(true);
    expect(forbiddenLiteral('10.0.0.1', policy(['10.0.0.1']))).toBe(false);
    expect(forbiddenLiteral('receiver.example.com', policy([]))).toBe(false);
  });

  it('a name that resolves to a private address is refused at connect time (DNS rebinding), unless allow-listed', async () => {
    // An injected resolver: no DNS query and no connection leave this machine.
    const resolver = (_h: string, _o: { all: true }, cb: (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) => cb(null, [{ address: '10.9.8.7', family: 4 }]);
    const lookup = (allow: string[]) =>
      new Promise<{ err: Error | null; address: unknown }>((r) => makeSafeLookup({ allow, loopback: true }, resolver)('rebind.example', {}, (err, address) => r({ err, address })));
    const refused = await lookup([]);
    expect(refused.err).toMatchObject({ code: 'ERR_PUSH_FORBIDDEN_ADDRESS' });
    expect(refused.err?.message).not.toMatch(/10\.9\.8\.7/); // the resolver's answer is not passed on
    const allowed = await lookup(['rebind.example']);
    expect(allowed.err).toBeNull();
    expect(allowed.address).toBe('10.9.8.7');
  });
});
