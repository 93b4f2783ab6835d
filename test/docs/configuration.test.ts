import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_DOC, DESCRIPTIONS, renderConfigurationDoc, schemaDefault, schemaKeys } from '../../scripts/docs-config.js';

/**
 * docs/configuration.md is written by `npm run docs:config` from the env schema. A setting added
 * to the schema without a description, a description left behind by a removed setting, or a doc
 * not regenerated after either, fails here rather than reaching an operator as a wrong table.
 */
describe('docs/configuration.md', () => {
  it('every variable of the env schema has a description', () => {
    expect(schemaKeys().filter((k) => !(k in DESCRIPTIONS))).toEqual([]);
  });

  it('every description names a variable the env schema still has', () => {
    const keys = new Set(schemaKeys());
    expect(Object.keys(DESCRIPTIONS).filter((k) => !keys.has(k))).toEqual([]);
  });

  it('a described default stands in only where the schema has none', () => {
    const shadowed = Object.entries(DESCRIPTIONS)
      .filter(([key, d]) => d.whenUnset !== undefined && schemaKeys().includes(key) && schemaDefault(key) !== undefined)
      .map(([key]) => key);
    expect(shadowed).toEqual([]);
  });

  it('lists every variable of the env schema, one row each', () => {
    const doc = readFileSync(CONFIGURATION_DOC, 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(rows).toEqual(schemaKeys());
  });

  it('is what `npm run docs:config` writes', () => {
    const doc = readFileSync(CONFIGURATION_DOC, 'utf8');
    expect(doc, 'docs/configuration.md is stale: run `npm run docs:config` and commit the result').toBe(renderConfigurationDoc());
  });
});
