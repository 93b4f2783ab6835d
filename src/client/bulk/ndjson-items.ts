import { GROUP_URN, rejectDuplicates, USER_URN, type ImportItem, type ItemError, type ItemType, type MemberRef, type ParsedImport } from './items.js';
import { isObject } from '../../core/is-object.js';

/**
 * NDJSON import: one SCIM resource per line (RFC 7643 §4.1 User or §4.2 Group, with `schemas`),
 * `externalId` required. A group's `members` name other resources in one of three forms:
 *
 * - `{"externalId": "u1"}`: the item of the file (or a resource already on the server) with
 *   externalId `u1`;
 * - `{"value": "bulkId:u1"}`: the same, in RFC 7644 §3.7.2 spelling. The bulkId of a line is its
 *   externalId, so no separate bulkId attribute is needed;
 * - `{"value": "u1"}`: the same again when `u1` is the externalId of a line of the file, or is not
 *   shaped like a server id. A file written before any id exists can only name its members by
 *   their externalIds, and `value` is where a SCIM resource names a member (RFC 7643 §4.2);
 * - `{"value": "<id>"}`: otherwise, a resource already on the server, by its id, sent as it is.
 *
 * A member's `type` is kept; `display` and `$ref` are dropped (readOnly, RFC 7643 §4.2).
 * `id` and `meta` are dropped: the server assigns them.
 */

function typeOf(schemas: unknown): ItemType | undefined {
  if (!Array.isArray(schemas)) return undefined;
  const lower = schemas.filter((s) => typeof s === 'string').map((s) => (s as string).toLowerCase());
  if (lower.includes(USER_URN.toLowerCase())) return 'user';
  if (lower.includes(GROUP_URN.toLowerCase())) return 'group';
  return undefined;
}

function memberRef(raw: unknown, i: number): MemberRef | string {
  if (!isObject(raw)) return `members[${i}] must be an object`;
  const type = typeof raw.type === 'string' ? raw.type : undefined;
  if (typeof raw.externalId === 'string' && raw.externalId !== '') return { externalId: raw.externalId, type };
  if (typeof raw.value === 'string' && raw.value !== '') {
    const m = /^bulkId:(.+)$/i.exec(raw.value);
    return m ? { externalId: m[1]!, type } : { value: raw.value, type };
  }
  return `members[${i}] needs "externalId" or "value"`;
}

function lineItem(line: number, text: string): ImportItem | ItemError {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { line, reason: `not valid JSON: ${(e as Error).message}` };
  }
  if (!isObject(doc)) return { line, reason: 'must be a JSON object (a SCIM resource)' };
  const type = typeOf(doc.schemas);
  const externalId = typeof doc.externalId === 'string' && doc.externalId !== '' ? doc.externalId : undefined;
  if (!type) return { line, externalId, reason: `schemas must include ${USER_URN} or ${GROUP_URN}` };
  if (!externalId) return { line, type, reason: 'externalId is required' };
  const { id: _id, meta: _meta, members: rawMembers, ...resource } = doc;
  const members: MemberRef[] = [];
  if (type === 'group' && rawMembers !== undefined) {
    if (!Array.isArray(rawMembers)) return { line, type, externalId, reason: 'members must be an array' };
    for (const [i, m] of rawMembers.entries()) {
      const ref = memberRef(m, i);
      if (typeof ref === 'string') return { line, type, externalId, reason: ref };
      members.push(ref);
    }
  } else if (rawMembers !== undefined) {
    return { line, type, externalId, reason: 'members is a Group attribute' };
  }
  return { line, type, externalId, resource, members };
}

/**
 * Server ids are UUIDs (RFC 4122 text form): scimcast's are, and so are those of most servers.
 * Anything else in a member's `value` cannot be one, so it is read as an externalId.
 */
const SERVER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A member `value` that is a line's externalId, or no server id, refers by externalId. */
function byExternalIdWherePossible(items: readonly ImportItem[]): ImportItem[] {
  const inFile = new Set(items.map((it) => it.externalId));
  const resolve = (m: MemberRef): MemberRef => ('value' in m && (inFile.has(m.value) || !SERVER_ID.test(m.value)) ? { externalId: m.value, type: m.type } : m);
  return items.map((it) => (it.members.some((m) => 'value' in m) ? { ...it, members: it.members.map(resolve) } : it));
}

/** An NDJSON import file → items and per-line errors; blank lines are skipped. */
export function parseNdjsonImport(text: string): ParsedImport {
  const items: ImportItem[] = [];
  const errors: ItemError[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const t = raw.trim();
    if (t === '') return;
    const r = lineItem(i + 1, t);
    if ('reason' in r) errors.push(r);
    else items.push(r);
  });
  return rejectDuplicates({ items: byExternalIdWherePossible(items), errors });
}
