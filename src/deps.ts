import type { Principal } from './auth/scopes.js';
import type { Config } from './config/load.js';
import type { AppMetrics } from './core/app-metrics.js';
import type { Clock } from './core/clock.js';
import type { Ids } from './core/ids.js';
import type { AsyncDeps } from './async/deps.js';
import type { PollDeps } from './delivery/poll.js';
import type { PushDeps } from './delivery/deliver.js';
import type { FanoutDeps } from './feeds/fanout.js';
import type { StreamsCtx } from './feeds/streams.js';
import type { ProvisioningCtx } from './provisioning/context.js';
import type { EventNotifier } from './storage/notify.js';
import type { Storage } from './storage/index.js';

/** Everything the edges (http, worker, cli) need, built once in main.ts and passed in, so no module builds its own. */
export interface Deps {
  readonly config: Config;
  readonly storage: Storage;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly authenticate: (token: string) => Promise<Principal | undefined>;
  /** Revoke an opaque token by id: refused at once here, and on other API processes by NOTIFY. */
  revokeToken(id: string): Promise<boolean>;
  /** True when a worker is running here or has sent a heartbeat recently (for /readyz). */
  readonly workerAlive: () => Promise<boolean>;
  readonly provisioning: ProvisioningCtx;
  readonly streams: StreamsCtx;
  readonly poll: PollDeps;
  readonly notifier: EventNotifier;
  readonly async: AsyncDeps;
  readonly push: PushDeps;
  /** The worker's fan-out, but for its storage: the worker gives it a pool of its own. */
  readonly fanout: Omit<FanoutDeps, 'storage'>;
  /** This process's Prometheus counters (/metrics); the same object the publisher, push and poll count into. */
  readonly metrics: AppMetrics;
  /** Release what makeDeps opened (the LISTEN connection); the pool is the caller's. */
  close(): Promise<void>;
}
