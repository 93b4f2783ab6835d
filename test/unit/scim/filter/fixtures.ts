import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AttrPath, CompareOp, CompareValue, FilterNode } from '../../../../src/scim/filter/index.js';

/** Tiny AST builders so each fixture row reads like the filter it describes. */
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** `"name.familyName"` → `{ attr: 'name', subAttr: 'familyName' }`; schema only when given. */
export function at(dotted: string, schema?: string): AttrPath {
  const [attr = '', subAttr] = dotted.split('.');
  return { ...(schema === undefined ? {} : { schema }), attr, ...(subAttr === undefined ? {} : { subAttr }) };
}
export const cmp = (path: string | AttrPath, op: CompareOp, value: CompareValue): FilterNode => ({
  kind: 'compare',
  path: typeof path === 'string' ? at(path) : path,
  op,
  value,
});
export const pr = (path: string | AttrPath): FilterNode => ({ kind: 'present', path: typeof path === 'string' ? at(path) : path });
export const and = (...children: FilterNode[]): FilterNode => ({ kind: 'and', children });
export const or = (...children: FilterNode[]): FilterNode => ({ kind: 'or', children });
export const not = (child: FilterNode): FilterNode => ({ kind: 'not', child });
export const vp = (path: string | AttrPath, filter: FilterNode): FilterNode => ({
  kind: 'valuePath',
  path: typeof path === 'string' ? at(path) : path,
  filter,
});

export interface ValidRow {
  filter: string;
  ast: FilterNode;
}

const LAST_MODIFIED = '2011-05-13T04:42:34Z';

/** RFC 7644 §3.4.2.2 Figure 2, in the order of spec-examples/rfc7644/3.4.2.2-filter-examples.json. */
export const RFC_FIGURE_2_ASTS: FilterNode[] = [
  cmp('userName', 'eq', 'bjensen'),
  cmp('name.familyName', 'co', "O'Malley"),
  cmp('userName', 'sw', 'J'),
  cmp(at('userName', CORE_USER), 'sw', 'J'),
  pr('title'),
  cmp('meta.lastModified', 'gt', LAST_MODIFIED),
  cmp('meta.lastModified', 'ge', LAST_MODIFIED),
  cmp('meta.lastModified', 'lt', LAST_MODIFIED),
  cmp('meta.lastModified', 'le', LAST_MODIFIED),
  and(pr('title'), cmp('userType', 'eq', 'Employee')),
  or(pr('title'), cmp('userType', 'eq', 'Intern')),
  cmp('schemas', 'eq', ENTERPRISE),
  and(cmp('userType', 'eq', 'Employee'), or(cmp('emails', 'co', 'example.com'), cmp('emails.value', 'co', 'example.org'))),
  and(cmp('userType', 'ne', 'Employee'), not(or(cmp('emails', 'co', 'example.com'), cmp('emails.value', 'co', 'example.org')))),
  and(cmp('userType', 'eq', 'Employee'), cmp('emails.type', 'eq', 'work')),
  and(cmp('userType', 'eq', 'Employee'), vp('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'co', '@example.com')))),
  or(
    vp('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'co', '@example.com'))),
    vp('ims', and(cmp('type', 'eq', 'xmpp'), cmp('value', 'co', '@foo.com'))),
  ),
];

/** The Figure 2 strings without the `filter=` query-parameter prefix. */
export function rfcFigure2Filters(): string[] {
  const file = join(import.meta.dirname, '../../../../spec-examples/rfc7644/3.4.2.2-filter-examples.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { example: string[] };
  return doc.example.map((line) => line.replace(/^filter=/, ''));
}

export const RFC_ROWS = (): ValidRow[] => rfcFigure2Filters().map((filter, i) => ({ filter, ast: RFC_FIGURE_2_ASTS[i]! }));

/** Beyond Figure 2: precedence, keyword case, literals, escapes, URN paths, odd names. */
export const VALID_ROWS: ValidRow[] = [
  // RFC 7644 §3.4.2.2: "the following two expressions will evaluate to the same logical value"
  { filter: 'userName Eq "john"', ast: cmp('userName', 'eq', 'john') },
  { filter: 'Username eq "john"', ast: cmp('Username', 'eq', 'john') },
  // precedence: not > and > or
  { filter: 'a eq 1 or b eq 2 and c eq 3', ast: or(cmp('a', 'eq', 1), and(cmp('b', 'eq', 2), cmp('c', 'eq', 3))) },
  { filter: 'a eq 1 and b eq 2 or c eq 3', ast: or(and(cmp('a', 'eq', 1), cmp('b', 'eq', 2)), cmp('c', 'eq', 3)) },
  { filter: '(a eq 1 or b eq 2) and c eq 3', ast: and(or(cmp('a', 'eq', 1), cmp('b', 'eq', 2)), cmp('c', 'eq', 3)) },
  { filter: 'a pr and b pr and c pr', ast: and(pr('a'), pr('b'), pr('c')) },
  { filter: '(a pr and b pr) and (c pr and d pr)', ast: and(pr('a'), pr('b'), pr('c'), pr('d')) },
  { filter: 'a pr or (b pr or c pr) or d pr', ast: or(pr('a'), pr('b'), pr('c'), pr('d')) },
  { filter: 'not (a pr) and b pr', ast: and(not(pr('a')), pr('b')) },
  { filter: 'a pr or not (b pr and c pr)', ast: or(pr('a'), not(and(pr('b'), pr('c')))) },
  { filter: 'not (not (a pr))', ast: not(not(pr('a'))) },
  { filter: 'not(a pr)', ast: not(pr('a')) },
  { filter: '((((a pr))))', ast: pr('a') },
  { filter: 'a pr and (b pr or c pr and (d pr or e pr))', ast: and(pr('a'), or(pr('b'), and(pr('c'), or(pr('d'), pr('e'))))) },
  // keywords are case-insensitive; names stay as written
  { filter: 'title PR AND userType EQ "x" Or NOT (active Eq TRUE)', ast: or(and(pr('title'), cmp('userType', 'eq', 'x')), not(cmp('active', 'eq', true))) },
  { filter: 'a eq False and b ne NULL', ast: and(cmp('a', 'eq', false), cmp('b', 'ne', null)) },
  // attribute names that spell keywords are still attributes by position
  { filter: 'pr pr', ast: pr('pr') },
  { filter: 'not pr and and eq "x"', ast: and(pr('not'), cmp('and', 'eq', 'x')) },
  { filter: 'true eq true', ast: cmp('true', 'eq', true) },
  // numbers (RFC 8259 §6)
  { filter: 'age gt -1 and x eq 1', ast: and(cmp('age', 'gt', -1), cmp('x', 'eq', 1)) },
  { filter: 'a eq 0 or a eq -0', ast: or(cmp('a', 'eq', 0), cmp('a', 'eq', 0)) },
  { filter: 'a ge 1.5 and a le -2.5e3 and a lt 1E+2 and a gt 10e-2', ast: and(cmp('a', 'ge', 1.5), cmp('a', 'le', -2500), cmp('a', 'lt', 100), cmp('a', 'gt', 0.1)) },
  // JSON string escapes
  { filter: String.raw`a eq "\"q\" \\ \/ \b\f\n\r\t"`, ast: cmp('a', 'eq', '"q" \\ / \b\f\n\r\t') },
  { filter: String.raw`a eq "caf\u00e9 \u00C9"`, ast: cmp('a', 'eq', 'café É') },
  { filter: String.raw`a eq "\uD83D\uDE00"`, ast: cmp('a', 'eq', '😀') },
  { filter: 'a eq "😀 raw"', ast: cmp('a', 'eq', '😀 raw') },
  { filter: 'a eq ""', ast: cmp('a', 'eq', '') },
  { filter: 'a eq ") and b pr or [c]"', ast: cmp('a', 'eq', ') and b pr or [c]') },
  // URN-qualified paths: the attribute follows the schema URI (which has colons and dots)
  { filter: `${ENTERPRISE}:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, ast: cmp(at('manager.value', ENTERPRISE), 'eq', '26118915-6090-4610-87e4-49d8ca9f808d') },
  { filter: `${ENTERPRISE}:employeeNumber pr`, ast: pr(at('employeeNumber', ENTERPRISE)) },
  { filter: 'URN:IETF:params:scim:schemas:core:2.0:user:UserName eq "x"', ast: cmp(at('UserName', 'URN:IETF:params:scim:schemas:core:2.0:user'), 'eq', 'x') },
  { filter: 'urn:example:custom:1.0:Thing:colour.shade pr', ast: pr(at('colour.shade', 'urn:example:custom:1.0:Thing')) },
  { filter: `${CORE_USER}:emails[type eq "work"]`, ast: vp(at('emails', CORE_USER), cmp('type', 'eq', 'work')) },
  // $ref (RFC 7643 §2.1) and meta
  { filter: 'members.$ref pr', ast: pr('members.$ref') },
  { filter: 'members[$ref eq "https://example.com/v2/Users/1"]', ast: vp('members', cmp('$ref', 'eq', 'https://example.com/v2/Users/1')) },
  { filter: 'meta.lastModified gt "2011-05-13T04:42:34Z"', ast: cmp('meta.lastModified', 'gt', '2011-05-13T04:42:34Z') },
  // value paths: inner paths are relative; not/parentheses allowed inside
  { filter: 'emails[type eq "work"]', ast: vp('emails', cmp('type', 'eq', 'work')) },
  { filter: 'emails[not (type eq "work")]', ast: vp('emails', not(cmp('type', 'eq', 'work'))) },
  { filter: 'emails[(type eq "work" or type eq "home") and primary eq true]', ast: vp('emails', and(or(cmp('type', 'eq', 'work'), cmp('type', 'eq', 'home')), cmp('primary', 'eq', true))) },
  { filter: 'not (emails[value ew "@example.com"]) and ims[value pr]', ast: and(not(vp('emails', cmp('value', 'ew', '@example.com'))), vp('ims', pr('value'))) },
  // whitespace between tokens is insignificant
  { filter: '  userName   eq\t"x"\n and  title pr ', ast: and(cmp('userName', 'eq', 'x'), pr('title')) },
];
