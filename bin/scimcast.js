#!/usr/bin/env node
// The `scimcast` command. An installed package runs its build (dist/, plain JavaScript, nothing
// compiled at run time). A checkout of the repository runs src/ through tsx instead, so an edit
// takes effect without a rebuild and the tests never run a stale dist/. The worker and API
// processes of `scimcast start` are started from this file too, so they run the same code.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/index.ts', import.meta.url);
// tsx is a development dependency: a checkout installed without it (npm ci --omit=dev) runs the build.
const tsx = existsSync(source) ? await import('tsx/esm/api').catch(() => undefined) : undefined;

if (tsx) {
  tsx.register();
  await import(source.href);
} else {
  await import('../dist/cli/index.js');
}
