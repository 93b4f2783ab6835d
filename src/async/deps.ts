import type { Clock } from '../core/clock.js';
import type { Ids } from '../core/ids.js';
import type { PublisherDeps } from '../feeds/publish.js';
import type { ProvisioningCtx } from '../provisioning/context.js';
import type { Storage } from '../storage/index.js';
import type { Admissions } from './accept.js';
import type { CallbackPolicy } from './callback.js';

/** What running an async request needs, in the worker and for an inline wait=N run alike. */
export interface AsyncDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly baseUrl: string;
  readonly provisioning: ProvisioningCtx;
  readonly publisher: PublisherDeps;
  readonly retentionMs: number;
  /** Where admitted requests are stored (accept.ts: group-committed per process). */
  readonly admissions: Admissions;
  /** Job attempts before the request is given up as `failed` (SCIMCAST_ASYNC_MAX_ATTEMPTS). */
  readonly maxAttempts?: number | undefined;
  /** Where a per-request callback may point (the push target rules); undefined: none is honoured. */
  readonly callbacks?: CallbackPolicy | undefined;
  /**
   * Aborted when the worker stops: a bulk ends after the batch it is in, rather than running to
   * its last operation while the process waits to exit; the job picks up where it left.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * Asked between two units of work of a bulk: true when more urgent requests wait for a worker
   * slot (Prefer priority=…). The bulk then ends after the unit it is in, and the job is queued
   * again in its place; an inline wait=N run has none and never gives way.
   */
  readonly giveWay?: (() => Promise<boolean>) | undefined;
}
