import { isUuid } from '../core/ids.js';
import type { Db } from './db.js';
import { clientOf, columnsOf, resourceRowOf, type RawResourceRow } from './raw-query.js';
import { memberDisplaySql, type MemberView } from './member-view.js';
import type { MemberRef, ResourceRow, ResourceTypeName } from './resource-row.js';

/**
 * A resource and what its representation needs besides its row (a User's `groups`, a Group's
 * `members`), read in one statement: one round trip per GET /{type}/{id}.
 */

/**
 * The User `groups` attribute (RFC 7643 §4.1.2, readOnly, direct memberships only) of the row
 * aliased `alias`, as a JSON array of [group id, displayName] in the order of membership; NULL
 * when it has none.
 */
export const groupsSubquery = (alias: string) =>
  `(select json_agg(json_build_array(g.id, g.display_name) order by m.seq) from group_members m join resources g on g.id = m.group_id where m.member_id = ${alias}.id)`;

/**
 * A Group's `members` (RFC 7643 §4.2) of the row aliased `alias`: [id, resourceType, display] in
 * the order added, the display as MemberView says.
 */
const membersSubquery = (alias: string, view: MemberView) =>
  `(select json_agg(json_build_array(m.member_id, x.resource_type, ${memberDisplaySql(view, 'm', 'x')}) order by m.seq) from group_members m join resources x on x.id = m.member_id where m.group_id = ${alias}.id)`;

export const groupRefsOf = (json: [string, string | null][] | null): MemberRef[] =>
  (json ?? []).map(([value, display]) => ({ value, type: 'Group', display }));

const memberRefsOf = (json: [string, ResourceTypeName, string | null][] | null): MemberRef[] =>
  (json ?? []).map(([value, type, display]) => ({ value, type, display }));

const byId = (type: ResourceTypeName) => `from resources r where r.resource_type = '${type}' and r.id = $1`;

/**
 * Named prepared statements (pg parses each once per connection): the text never changes, only
 * the id. The Group's members are counted first, no further than the bound ($2 + 1 rows of the
 * primary key index), and only aggregated within it: a 1,000,000-member group is never loaded. A
 * NULL bound means none.
 */
const statements = (view: MemberView) =>
  ({
    User: { name: 'scimcast_read_user', text: `select ${columnsOf('r')} ${byId('User')}` },
    UserRelated: { name: 'scimcast_read_user_groups', text: `select ${columnsOf('r')}, ${groupsSubquery('r')} as related ${byId('User')}` },
    Group: { name: 'scimcast_read_group', text: `select ${columnsOf('r')} ${byId('Group')}` },
    GroupRelated: {
      // One name per text: a process reads members one way, but the name must not lie.
      name: view.displayFromName ? 'scimcast_read_group_members_named' : 'scimcast_read_group_members',
      text:
        `select ${columnsOf('r')}, c.n as member_count, case when $2::int is null or c.n <= $2::int then ${membersSubquery('r', view)} end as related ` +
        `from resources r cross join lateral (select count(*)::int as n from (select 1 from group_members b where b.group_id = r.id limit $2::int + 1) k) c ` +
        `where r.resource_type = 'Group' and r.id = $1`,
    },
  }) as const;

const STATEMENTS = { sent: statements({ displayFromName: false }), named: statements({ displayFromName: true }) };

export interface ReadOptions {
  /** Load the User's groups or the Group's members. */
  readonly related: boolean;
  /** At most this many Group members (SCIMCAST_MAX_MEMBERS_RETURNED); undefined: no bound. */
  readonly maxMembers?: number | undefined;
}

export interface ReadResult {
  readonly row: ResourceRow;
  /** Undefined when not asked for, or when the group has more members than `maxMembers`. */
  readonly related: MemberRef[] | undefined;
  /** The group has more members than `maxMembers`: none were loaded. */
  readonly tooManyMembers: boolean;
}

type Raw = RawResourceRow & { related?: unknown; member_count?: number };

export async function readResource(db: Db, type: ResourceTypeName, id: string, opts: ReadOptions, view: MemberView): Promise<ReadResult | undefined> {
  // A value that is not a uuid names no resource (and must not reach the uuid column).
  if (!isUuid(id)) return undefined;
  const client = clientOf(db);
  const stmt = STATEMENTS[view.displayFromName ? 'named' : 'sent'][`${type}${opts.related ? 'Related' : ''}`];
  const values = type === 'Group' && opts.related ? [id, opts.maxMembers ?? null] : [id];
  const { rows } = await client.query<Raw>({ ...stmt, values });
  const raw = rows[0];
  if (!raw) return undefined;
  const row = resourceRowOf(raw);
  if (!opts.related) return { row, related: undefined, tooManyMembers: false };
  if (type === 'User') return { row, related: groupRefsOf(raw.related as never), tooManyMembers: false };
  const tooMany = opts.maxMembers !== undefined && raw.member_count! > opts.maxMembers;
  return { row, related: tooMany ? undefined : memberRefsOf(raw.related as never), tooManyMembers: tooMany };
}
