/**
 * What an import file says, independent of its format: one item per user or group, keyed by
 * `externalId` (RFC 7643 §3.1: the provisioning client's own identifier). The key is what makes
 * an import resumable and idempotent: the journal, the existence check and member references
 * all go through it, so every item needs one and no two items may share one.
 */

export const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';

export type ItemType = 'user' | 'group';

/**
 * A group member as written in the file: another item of the file or a resource already on the
 * server, by `externalId`; or a server id as it is (`value`).
 */
export type MemberRef = { readonly externalId: string; readonly type?: string | undefined } | { readonly value: string; readonly type?: string | undefined };

export interface ImportItem {
  /** Where the item came from (1-based line of the file), for the report. */
  readonly line: number;
  readonly type: ItemType;
  readonly externalId: string;
  /** The SCIM resource to write, with `schemas` and `externalId`, without `members`. */
  readonly resource: Readonly<Record<string, unknown>>;
  /** Groups only; empty for users. */
  readonly members: readonly MemberRef[];
}

/** A row that cannot become an item; it is reported as failed and nothing is sent for it. */
export interface ItemError {
  readonly line: number;
  readonly type?: ItemType | undefined;
  readonly externalId?: string | undefined;
  readonly reason: string;
}

export interface ParsedImport {
  readonly items: ImportItem[];
  readonly errors: ItemError[];
}

export const endpointOf = (type: ItemType): '/Users' | '/Groups' => (type === 'user' ? '/Users' : '/Groups');

/**
 * The second item with an externalId already used fails, so a reference by externalId always
 * names exactly one item. The first one stays.
 */
export function rejectDuplicates(parsed: ParsedImport): ParsedImport {
  const seen = new Map<string, number>();
  const items: ImportItem[] = [];
  const errors = [...parsed.errors];
  for (const it of parsed.items) {
    const first = seen.get(it.externalId);
    if (first !== undefined) {
      errors.push({ line: it.line, type: it.type, externalId: it.externalId, reason: `externalId '${it.externalId}' is already used on line ${first}` });
      continue;
    }
    seen.set(it.externalId, it.line);
    items.push(it);
  }
  errors.sort((a, b) => a.line - b.line);
  return { items, errors };
}
