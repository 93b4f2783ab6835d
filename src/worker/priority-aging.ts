import { APPLY_TASK } from '../async/tasks.js';
import { PRIORITY_LEVELS } from '../async/priority.js';
import type { Deps } from '../deps.js';

/**
 * No async request waits forever behind more urgent ones: graphile-worker orders strictly by
 * priority, so every worker moves a request that has waited SCIMCAST_ASYNC_PRIORITY_AGING_MS at
 * its level up one level (low → normal → high). A low request thus waits at most twice that, plus
 * the high-priority work admitted before it (work of one level runs in run_at order). Several
 * workers doing it at once is harmless: a move restarts the wait at the new level.
 */
export function startPriorityAging(d: Deps): { stop(): void } {
  const agingMs = d.config.events.asyncPriorityAgingMs;
  let running = false;
  const age = async () => {
    if (running) return;
    running = true;
    try {
      await d.storage.jobs.promoteWaiting(APPLY_TASK, PRIORITY_LEVELS, agingMs);
    } catch {
      /* the database is away; /readyz shows it, the next round retries */
    } finally {
      running = false;
    }
  };
  // A quarter of the period: a request moves at most a quarter late.
  const timer = setInterval(() => void age(), Math.max(25, Math.floor(agingMs / 4)));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
