import { sql } from 'drizzle-orm';
import type { Db } from './db.js';

/**
 * Tells listeners that changes committed, after the commit rather than in it. A NOTIFY inside a
 * writing transaction takes PostgreSQL's global notification lock before the commit record and
 * keeps it past the WAL flush, so every notifying commit waits for the one before it: concurrent
 * writers could no longer share a flush, and creates at 64 clients fell to a fifth of what the
 * same statements commit without it (docs/decisions/0002-group-commit.md).
 *
 * The NOTIFY goes out in a transaction of its own that does not wait for its flush
 * (synchronous_commit off, for that one statement): what it announces is already durable, and a
 * lost announcement only delays the fan-out until its idle sweep. Calls coalesce: at most one is in
 * flight, and calls made meanwhile cause exactly one more, sent after theirs committed.
 */
export function makeAnnouncer(send: () => Promise<void>): () => void {
  let sending = false;
  let again = false;
  const run = (): void => {
    sending = true;
    again = false;
    send()
      .catch(() => {
        // Nobody to tell: the listeners' sweep finds what this announcement would have woken.
      })
      .finally(() => {
        sending = false;
        if (again) run();
      });
  };
  return () => {
    if (sending) again = true;
    else run();
  };
}

/** The statement: one NOTIFY, committed without waiting for the WAL flush. */
export function notifyAfterCommit(db: Db, channel: string, payload: string): () => Promise<void> {
  return async () => {
    await db.execute(sql`select set_config('synchronous_commit', 'off', true), pg_notify(${channel}, ${payload})`);
  };
}
