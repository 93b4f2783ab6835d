import type { Task } from 'graphile-worker';
import { z } from 'zod';
import { deliverFeed } from '../../delivery/deliver.js';
import type { Deps } from '../../deps.js';

const payload = z.object({ feedId: z.string().min(1) });

/** deliver_push: one job per push stream at a time (job key + named queue), in commit order. */
export const makeDeliverPush =
  (d: Deps): Task =>
  async (raw) => {
    const { feedId } = payload.parse(raw);
    await deliverFeed(d.push, feedId);
  };
