import { describe, expect, it } from 'vitest';
import { onLauncherExit } from '../../../src/cli/launcher-watch.js';

// The launcher exiting is covered end to end by test/package/pack.test.ts (SIGTERM to npx).
describe('watching the launcher', () => {
  it('does nothing for a process npm did not launch, whose parent may exit on purpose (nohup … &)', async () => {
    let called = false;
    onLauncherExit(() => (called = true), { env: {}, everyMs: 5 });
    await new Promise((r) => setTimeout(r, 30));
    expect(called).toBe(false);
  });

  it('does not fire while npm, the parent, is alive', async () => {
    let called = false;
    onLauncherExit(() => (called = true), { env: { npm_lifecycle_event: 'start' }, everyMs: 5 });
    await new Promise((r) => setTimeout(r, 30));
    expect(called).toBe(false);
  });
});
