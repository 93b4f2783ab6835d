#!/usr/bin/env node
// scimcast is TypeScript run through tsx (no build step); this shim registers the loader.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/index.ts');
