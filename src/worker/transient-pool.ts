import type pg from 'pg';
import { CONNECTION_FAILURE, isCodelessLostConnection } from '../core/connection-errors.js';

/**
 * node-postgres reports a connection that dies under a query ("Connection terminated
 * unexpectedly") or a client left unusable by one ("… not queryable") as errors without a `code`.
 * graphile-worker retries a job's outcome (completeJob/failJob) only for the codes in its
 * RETRYABLE_ERROR_CODES, and does not await it: a code-less error there rejects unhandled and
 * kills the process (seen when PostgreSQL restarted while a push job was failing,
 * test/reliability/postgres-restart.test.ts). The proxy below gives those errors SQLSTATE 08006
 * (connection_failure), which run.ts marks retryable with every lost-connection code
 * (core/connection-errors.ts), for graphile-worker's queries only.
 */
function tagged(e: unknown): unknown {
  if (isCodelessLostConnection(e)) Object.assign(e, { code: CONNECTION_FAILURE });
  return e;
}

function wrapClient(client: pg.PoolClient): pg.PoolClient {
  return new Proxy(client, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      if (prop !== 'query') return (v as (...a: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) => {
        // The callback form (pg-pool's own pool.query) reports errors through the callback: untouched.
        if (typeof args[args.length - 1] === 'function') return (v as (...a: unknown[]) => unknown).apply(target, args);
        const r = (v as (...a: unknown[]) => unknown).apply(target, args) as Promise<unknown> | undefined;
        return r && typeof r.then === 'function' ? r.catch((e: unknown) => Promise.reject(tagged(e))) : r;
      };
    },
  });
}

type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void;

/** The same pool, whose checked-out clients tag lost-connection errors (see above). */
export function withTaggedConnectionErrors(pool: pg.Pool): pg.Pool {
  return new Proxy(pool, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'connect') {
        return (cb?: ConnectCallback) => {
          if (cb) return target.connect((err, client, done) => cb(tagged(err) as Error | undefined, client && wrapClient(client), done));
          return target.connect().then(wrapClient, (e: unknown) => Promise.reject(tagged(e)));
        };
      }
      if (prop === 'query') {
        return (...args: unknown[]) => {
          if (typeof args[args.length - 1] === 'function') return (v as (...a: unknown[]) => unknown).apply(target, args);
          const r = (v as (...a: unknown[]) => unknown).apply(target, args) as Promise<unknown>;
          return r.catch((e: unknown) => Promise.reject(tagged(e)));
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
