import type { ResourceTypeName } from '../scim/resource-types.js';
import type { resources } from './schema.js';

/** The row types the resource repositories share (resources.ts, resource-reads.ts, list-query.ts). */
export type { ResourceTypeName };

export type ResourceRow = typeof resources.$inferSelect;

export interface MemberRef {
  value: string;
  display: string | null;
  type: ResourceTypeName;
}

/** Members to store: ids in order, each with the `display` the client sent, if any. */
export interface NewMembers {
  readonly ids: readonly string[];
  /** id → the `display` sent with it; ids without one are absent. */
  readonly displays?: ReadonlyMap<string, string> | undefined;
}
