import { describe, expect, it } from 'vitest';
import { parsePatchPath, stringifyPatchPath, type PatchPath } from '../../../../src/scim/patch/path.js';
import { and, at, cmp, CORE_USER, ENTERPRISE, pr } from '../filter/fixtures.js';
import { errorOf } from '../../../helpers/errors.js';


const MEMBER = '2819c223-7f76-453a-919d-413861904646';

/** RFC 7644 §3.5.2 Figure 8 first, then the other target shapes PATCH operations use. */
const VALID: { path: string; parsed: PatchPath }[] = [
  { path: 'members', parsed: { path: at('members') } },
  { path: 'name.familyName', parsed: { path: at('name.familyName') } },
  { path: 'addresses[type eq "work"]', parsed: { path: at('addresses'), filter: cmp('type', 'eq', 'work') } },
  { path: `members[value eq "${MEMBER}"]`, parsed: { path: at('members'), filter: cmp('value', 'eq', MEMBER) } },
  { path: `members[value eq "${MEMBER}"].displayName`, parsed: { path: at('members'), filter: cmp('value', 'eq', MEMBER), subAttr: 'displayName' } },
  { path: 'emails[type eq "work"]', parsed: { path: at('emails'), filter: cmp('type', 'eq', 'work') } },
  { path: 'emails[type eq "work"].value', parsed: { path: at('emails'), filter: cmp('type', 'eq', 'work'), subAttr: 'value' } },
  { path: 'emails[type eq "work" and value ew "example.com"]', parsed: { path: at('emails'), filter: and(cmp('type', 'eq', 'work'), cmp('value', 'ew', 'example.com')) } },
  { path: 'emails[not (primary eq true)].display', parsed: { path: at('emails'), filter: { kind: 'not', child: cmp('primary', 'eq', true) }, subAttr: 'display' } },
  { path: 'members.$ref', parsed: { path: at('members.$ref') } },
  { path: 'members[$ref pr].$ref', parsed: { path: at('members'), filter: pr('$ref'), subAttr: '$ref' } },
  { path: `${ENTERPRISE}:manager`, parsed: { path: at('manager', ENTERPRISE) } },
  { path: `${ENTERPRISE}:manager.value`, parsed: { path: at('manager.value', ENTERPRISE) } },
  { path: `${ENTERPRISE}:employeeNumber`, parsed: { path: at('employeeNumber', ENTERPRISE) } },
  { path: `${CORE_USER}:emails[type eq "work"].value`, parsed: { path: at('emails', CORE_USER), filter: cmp('type', 'eq', 'work'), subAttr: 'value' } },
  // The extension URN alone targets the whole extension object: attr ''.
  { path: ENTERPRISE, parsed: { path: { schema: ENTERPRISE, attr: '' } } },
  { path: ENTERPRISE.toUpperCase(), parsed: { path: { schema: ENTERPRISE.toUpperCase(), attr: '' } } },
  { path: 'Emails[TYPE EQ "work"].Value', parsed: { path: at('Emails'), filter: cmp('TYPE', 'eq', 'work'), subAttr: 'Value' } },
];

describe('parsePatchPath: RFC 7644 §3.5.2 PATH = attrPath / valuePath [subAttr]', () => {
  it.each(VALID)('$path', ({ path, parsed }) => {
    expect(parsePatchPath(path)).toEqual(parsed);
  });

  it.each(VALID)('stringifyPatchPath round-trips $path', ({ path }) => {
    const parsed = parsePatchPath(path);
    expect(parsePatchPath(stringifyPatchPath(parsed))).toEqual(parsed);
  });

  it('recognises a bare URN only for the schemas it is told about', () => {
    const custom = 'urn:example:params:scim:schemas:extension:acme:1.0:User';
    expect(parsePatchPath(custom)).toEqual({ path: { schema: 'urn:example:params:scim:schemas:extension:acme:1.0', attr: 'User' } });
    expect(parsePatchPath(custom, { schemaUrns: [custom] })).toEqual({ path: { schema: custom, attr: '' } });
    expect(parsePatchPath(`${custom}:badge.colour`, { schemaUrns: [custom] })).toEqual({ path: at('badge.colour', custom) });
  });

  it('a bare URN cannot carry a value filter', () => {
    expect(errorOf(() => parsePatchPath(`${ENTERPRISE}[value pr]`)).detail).toMatch(/position 0: expected an attribute name after the schema URI/);
  });
});

const INVALID: { path: string; error: RegExp }[] = [
  { path: '', error: /^Invalid path: path is empty$/ },
  { path: '[type eq "work"]', error: /^Invalid path at position 0: expected an attribute path but found '\['$/ },
  { path: 'members extra', error: /position 8: expected end of path after "members" but found "extra"/ },
  { path: 'members]', error: /position 7: expected end of path after "members" but found '\]'/ },
  { path: 'name.familyName.x', error: /position 0: "name.familyName.x" has more than one sub-attribute/ },
  { path: '1name', error: /position 0: "1name" is not a valid attribute name/ },
  { path: `${ENTERPRISE}:`, error: /expected an attribute name after the schema URI/ },
  { path: 'name.familyName[x pr]', error: /position 0: a value filter .* not to the sub-attribute/ },
  { path: 'emails[type eq "work"', error: /position 21: expected '\]' to close the '\[' at position 6 but found end of input/ },
  { path: 'emails[]', error: /position 7: expected an attribute expression/ },
  { path: 'emails[type zz "work"]', error: /position 12: expected a comparison operator/ },
  { path: 'emails[type eq work]', error: /position 15: expected a value .*double quotes/ },
  { path: 'emails[type[value pr]]', error: /position 11: value paths cannot be nested/ },
  { path: 'emails[type eq "work"] or x', error: /position 23: expected end of path or "\.subAttribute" after '\]' but found "or"/ },
  { path: 'emails[type eq "work"].', error: /position 23: expected an attribute name/ },
  { path: 'emails[type eq "work"].value.display', error: /"value\.display" is not a valid attribute name/ },
  { path: 'emails[type eq "work"].value[x pr]', error: /position 28: expected end of path after "\.value" but found '\['/ },
  { path: 'emails[type eq "work"]]', error: /position 22: expected end of path or "\.subAttribute" after '\]' but found '\]'/ },
  { path: `emails[${'('.repeat(40)}type pr${')'.repeat(40)}]`, error: /filter exceeds 32 levels of nesting/ },
  { path: `emails[value eq "${'x'.repeat(5000)}"]`, error: /^Invalid path: path exceeds 4096 characters$/ },
];

describe('parsePatchPath: invalid paths are 400 invalidPath', () => {
  it.each(INVALID)('$path', ({ path, error }) => {
    const e = errorOf(() => parsePatchPath(path));
    expect(e.status).toBe(400);
    expect(e.scimType).toBe('invalidPath');
    expect(e.detail).toMatch(error);
  });
});
