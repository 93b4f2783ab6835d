import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The mode and owners of a directory, as `stat` gives them. */
export interface DirStat {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** The OS user PostgreSQL runs as: its uid and the groups it is in (empty: not created yet). */
export interface OsUser {
  readonly uid: number;
  readonly gids: readonly number[];
}

/** Whether `user` may enter `dir` (the search bit of the class it falls in; POSIX, ACLs aside). */
export function canTraverse(dir: DirStat, user: OsUser): boolean {
  if (dir.uid === user.uid) return (dir.mode & 0o100) !== 0;
  if (user.gids.includes(dir.gid)) return (dir.mode & 0o010) !== 0;
  return (dir.mode & 0o001) !== 0;
}

/**
 * The first directory above `dir` that `user` cannot enter, if any. As root, PostgreSQL runs as
 * another OS user (it refuses root), and initdb fails with a bare "Permission denied" when a parent
 * of the data directory is private to root (/root is 0700 on most systems): this names it first.
 */
export function blockedAncestor(dir: string, user: OsUser, stat: (path: string) => DirStat = statSync): string | undefined {
  const ancestors: string[] = [];
  for (let p = dirname(resolve(dir)); ; p = dirname(p)) {
    ancestors.unshift(p);
    if (dirname(p) === p) break;
  }
  return ancestors.find((p) => !canTraverse(stat(p), user));
}
