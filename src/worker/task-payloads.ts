import type { TaskName, TaskPayload } from '../async/tasks.js';

type Payloads = { [T in TaskName]: TaskPayload<T> };

/**
 * graphile-worker types `helpers.addJob` from this global interface: declaring the payload table
 * (async/tasks.ts) here makes a job the worker queues with a payload its task would refuse a
 * compile error.
 */
declare global {
  namespace GraphileWorker {
    interface Tasks extends Payloads {}
  }
}

export {};
