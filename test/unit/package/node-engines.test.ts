import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * The README promises Node.js 20.19. Every installed package must accept it, or `npm ci` warns
 * (EBADENGINE) and the package may use what Node 20 lacks. Platform binaries that npm skips on
 * this machine (optional, for another OS or CPU) are left out.
 */
const root = new URL('../../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string }; optional?: boolean; os?: string[]; cpu?: string[] }>;
};

describe('Node.js version', () => {
  const promised = semver.minVersion(pkg.engines.node)!.version;

  it('package.json promises what the README says', () => {
    expect(promised).toBe('20.19.0');
    expect(readFileSync(new URL('README.md', root), 'utf8')).toContain('Node.js 20.19 or later');
  });

  it('every package in the lock file accepts the promised Node.js version', () => {
    const refused = Object.entries(lock.packages)
      .filter(([name, p]) => name !== '' && p.engines?.node && !(p.optional && (p.os || p.cpu)))
      .filter(([, p]) => !semver.satisfies(promised, p.engines!.node!))
      .map(([name, p]) => `${name}@${p.version} needs node ${p.engines!.node}`);
    expect(refused).toEqual([]);
  });
});
