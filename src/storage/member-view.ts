/**
 * How stored membership reads. `displayFromName` (SCIMCAST_COMPAT_MEMBER_DISPLAY): a member the
 * client added without a `display` reads with the member's displayName or userName; otherwise a
 * member's `display` is the one the client sent, or none (RFC 7643 §8.7.1). Reads, filters on
 * `members.display` and PATCH removals by a members filter all see the same value.
 */
export interface MemberView {
  readonly displayFromName: boolean;
}

export const SENT_DISPLAY: MemberView = Object.freeze({ displayFromName: false });

/**
 * A member's `display` as SQL text: `member` aliases its group_members row, `resource` the
 * member's resources row. The only place the rule of MemberView is written for SQL.
 */
export function memberDisplaySql(view: MemberView, member: string, resource: string): string {
  return view.displayFromName ? `coalesce(${member}.display, ${resource}.display_name, ${resource}.user_name)` : `${member}.display`;
}
