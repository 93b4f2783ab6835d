import { ENTERPRISE_USER_URN } from '../schemas/enterprise-user.js';
import { GROUP_URN } from '../schemas/group.js';
import { USER_URN } from '../schemas/user.js';
import type { AttrPath } from './ast.js';
import { clip } from './lexer.js';
import { FilterSyntaxError } from './syntax-error.js';

/**
 * `attrPath = [URI ":"] ATTRNAME *1subAttr` (RFC 7644 §3.4.2.2 Figure 1, shared by the PATCH
 * `PATH` rule of §3.5.2 Figure 7).
 *
 * The schema URI itself contains colons and dots (`…:core:2.0:User`), so the attribute is
 * what follows the URI's end: a known schema URN when the text starts with one, else the
 * last colon. Knowing the URNs is what tells the bare extension URN
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` (a PATCH path meaning the whole
 * extension object) apart from an attribute `User` of a schema `…:enterprise:2.0`.
 */

/** The schemas scimcast serves (RFC 7643 §4.1–4.3); used to split `<urn>:<attr>`. */
export const KNOWN_SCHEMA_URNS: readonly string[] = [USER_URN, GROUP_URN, ENTERPRISE_USER_URN];

/**
 * `ATTRNAME = ALPHA *(nameChar)`, plus `$ref`: RFC 7643 §2.1 reserves it for reference
 * sub-attributes (`members.$ref`) although Figure 1 cannot spell it.
 */
const ATTRNAME = /^(?:[A-Za-z][A-Za-z0-9_-]*|\$ref)$/i;

/** RFC 3986 `scheme ":" …` with URI characters; `( ) [ ] "` and spaces never reach here. */
const SCHEMA_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]+$/;

export interface AttrPathOptions {
  /** Schema URNs tried before the last-colon rule (compared case-insensitively, RFC 7643 §2.1). */
  schemaUrns?: readonly string[];
  /** PATCH only: a path that is exactly a schema URN names the whole extension (`attr: ''`). */
  allowBareSchema?: boolean;
}

/** `pos` is where `text` starts in the filter, so errors point into the client's input. */
export function parseAttrPath(text: string, pos: number, opts: AttrPathOptions = {}): AttrPath {
  const urns = opts.schemaUrns ?? KNOWN_SCHEMA_URNS;
  const lower = text.toLowerCase();
  if (urns.some((u) => u.toLowerCase() === lower)) {
    if (opts.allowBareSchema) return { schema: text, attr: '' };
    throw new FilterSyntaxError(pos, `expected an attribute name after the schema URI "${clip(text)}"`);
  }
  const known = urns.find((u) => lower.startsWith(`${u.toLowerCase()}:`));
  const cut = known === undefined ? text.lastIndexOf(':') : known.length;
  if (cut < 0) return parseNames(text, pos);
  const schema = text.slice(0, cut);
  if (!SCHEMA_URI.test(schema)) throw new FilterSyntaxError(pos, `"${clip(schema)}" is not a valid schema URI`);
  if (cut === text.length - 1) {
    throw new FilterSyntaxError(pos + cut + 1, `expected an attribute name after the schema URI "${clip(schema)}"`);
  }
  return { schema, ...parseNames(text.slice(cut + 1), pos + cut + 1) };
}

/**
 * The attrPath before `[`: a value filter selects values of a multi-valued attribute, and
 * RFC 7643 §2.3.8 forbids complex sub-attributes, so `name.givenName[…]` can never match.
 */
export function parseValuePathAttr(text: string, pos: number, schemaUrns: readonly string[] | undefined): AttrPath {
  const path = parseAttrPath(text, pos, { schemaUrns });
  if (path.subAttr !== undefined) {
    throw new FilterSyntaxError(pos, `a value filter '[…]' applies to a multi-valued attribute, not to the sub-attribute "${clip(text)}"`);
  }
  return path;
}

/** `ATTRNAME *1subAttr`: one name, or `name.subName`. */
function parseNames(text: string, pos: number): { attr: string; subAttr?: string } {
  const parts = text.split('.');
  if (parts.length > 2) {
    throw new FilterSyntaxError(pos, `"${clip(text)}" has more than one sub-attribute; expected "attribute" or "attribute.subAttribute"`);
  }
  const [attr = '', subAttr] = parts;
  checkName(attr, pos);
  if (subAttr === undefined) return { attr };
  checkName(subAttr, pos + attr.length + 1);
  return { attr, subAttr };
}

export function checkName(name: string, pos: number): void {
  if (name === '') throw new FilterSyntaxError(pos, 'expected an attribute name');
  if (!ATTRNAME.test(name)) {
    throw new FilterSyntaxError(pos, `"${clip(name)}" is not a valid attribute name (a letter, then letters, digits, "-" or "_")`);
  }
}

/** Inverse of parseAttrPath; a bare schema (`attr: ''`) prints as the URN alone. */
export function formatAttrPath(path: AttrPath): string {
  const name = path.subAttr === undefined ? path.attr : `${path.attr}.${path.subAttr}`;
  if (path.schema === undefined) return name;
  return name === '' ? path.schema : `${path.schema}:${name}`;
}
