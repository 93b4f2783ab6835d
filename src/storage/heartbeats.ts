import { max, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { workerHeartbeats } from './schema.js';

export function makeHeartbeatRepo(db: Db) {
  return {
    async beat(workerId: string, at: Date): Promise<void> {
      await db
        .insert(workerHeartbeats)
        .values({ workerId, seenAt: at })
        .onConflictDoUpdate({ target: workerHeartbeats.workerId, set: { seenAt: at } });
    },
    async latest(): Promise<Date | undefined> {
      const [r] = await db.select({ at: max(workerHeartbeats.seenAt) }).from(workerHeartbeats);
      return r?.at ?? undefined;
    },
    async forget(workerId: string): Promise<void> {
      await db.delete(workerHeartbeats).where(sql`${workerHeartbeats.workerId} = ${workerId}`);
    },
  };
}
