import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every SCIM error the server raises pairs its HTTP status with a scimType RFC 7644 §3.12 allows.
 * scimType is optional on any error status; where present it must fit the status:
 * - 400: the keywords of RFC 7644 §3.12 Table 9, plus RFC 9865's cursor keywords;
 * - 409: `uniqueness` (RFC 7644 §3.3 and §3.5.1: a create or replace that would duplicate a unique value);
 * - 403: `sensitive` (RFC 7644 §7.5.2: sensitive data in a request URI).
 * A static scan of src/: each `new ScimError(status, scimType…)`, `badRequest(scimType…)` and
 * `conflict(scimType…)` with literal arguments is checked; the few sites whose arguments are not
 * literals are listed below with why they stay within the rules, so a new one is looked at.
 * @see https://www.rfc-editor.org/rfc/rfc7644#section-3.12
 */
const TABLE_9 = ['invalidFilter', 'tooMany', 'uniqueness', 'mutability', 'invalidSyntax', 'invalidPath', 'noTarget', 'invalidValue', 'invalidVers', 'sensitive'];
/** RFC 9865 §2.1 (cursor-based pagination). */
const RFC_9865 = ['invalidCursor', 'expiredCursor', 'invalidCount'];
const ALLOWED: Record<number, readonly string[]> = { 400: [...TABLE_9, ...RFC_9865], 409: ['uniqueness'], 403: ['sensitive'] };

/** file → how many non-literal sites it has, and why they are within the rules. */
const DYNAMIC: Record<string, { count: number; why: string }> = {
  'core/errors.ts': { count: 2, why: 'the badRequest (400) and conflict (409) helpers: their call sites are scanned' },
  'http/plugins/error-handler.ts': { count: 1, why: "a framework 4xx: invalidSyntax for 400, no scimType otherwise" },
  'async/admission.ts': { count: 1, why: 'a wait=N answer replays the error an operation recorded, itself raised at a scanned site' },
  'scim/patch/apply.ts': { count: 1, why: "re-raises a ScimError with its own status and scimType, prefixing the operation's index" },
  'scim/filter/syntax-error.ts': { count: 1, why: "badRequest with 'invalidFilter' | 'invalidPath' (typed so)" },
};

const SRC = join(import.meta.dirname, '../../../src');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
const sources = files(SRC).map((p) => ({ path: relative(SRC, p).split('\\').join('/'), text: readFileSync(p, 'utf8') }));

interface Site {
  file: string;
  status: number | undefined;
  scimType: string | undefined | null;
}

/** null scimType: not a literal. */
function sites(): Site[] {
  const out: Site[] = [];
  const literal = (arg: string): string | undefined | null => (/^'\w+'$/.test(arg) ? arg.slice(1, -1) : arg === 'undefined' ? undefined : null);
  for (const s of sources) {
    for (const m of s.text.matchAll(/new ScimError\(\s*([^,]+?)\s*,\s*([^,]+?)\s*,/g)) {
      out.push({ file: s.path, status: /^\d{3}$/.test(m[1]!) ? Number(m[1]) : undefined, scimType: literal(m[2]!) });
    }
    for (const m of s.text.matchAll(/\bbadRequest\(\s*([^,)]+?)\s*,/g)) out.push({ file: s.path, status: 400, scimType: literal(m[1]!) });
    for (const m of s.text.matchAll(/\bconflict\(\s*([^,)]+?)\s*,/g)) out.push({ file: s.path, status: 409, scimType: literal(m[1]!) });
  }
  return out;
}

describe('SCIM errors: status and scimType pairs RFC 7644 §3.12 allows', () => {
  const all = sites();

  it('finds the error sites', () => {
    expect(all.length).toBeGreaterThan(100);
  });

  it('every literal status is a 4xx or 5xx, and every literal scimType fits its status', () => {
    const wrong = all
      .filter((x) => x.status !== undefined && x.scimType !== null)
      .filter((x) => x.status! < 400 || x.status! > 599 || (x.scimType !== undefined && !(ALLOWED[x.status!] ?? []).includes(x.scimType!)))
      .map((x) => `${x.file}: ${x.status} ${x.scimType}`);
    expect(wrong).toEqual([]);
  });

  it('the sites without literal arguments are the known ones', () => {
    const counts: Record<string, number> = {};
    for (const x of all.filter((y) => y.status === undefined || y.scimType === null)) counts[x.file] = (counts[x.file] ?? 0) + 1;
    const expected = Object.fromEntries(Object.entries(DYNAMIC).filter(([, v]) => v.count > 0).map(([k, v]) => [k, v.count]));
    expect(counts).toEqual(expected);
  });
});
