import { scrypt } from 'node:crypto';
import { makeLimiter } from '../core/limiter.js';
import { makePasswordHasher, type PasswordHasher, type Scrypt } from './password.js';

/**
 * Where password hashes run: node's asynchronous `crypto.scrypt`, which computes on the libuv
 * threadpool while the event loop goes on serving requests, probes and worker heartbeats, behind
 * a FIFO limit of `concurrency` hashes at once (SCIMCAST_PASSWORD_HASH_CONCURRENCY).
 *
 * Why the limit: that threadpool has 4 threads by default (UV_THREADPOOL_SIZE) and also serves
 * dns.lookup (push delivery resolves every receiver through it, delivery/safe-lookup.ts) and file
 * system calls. A 2,000-user /Bulk handed to crypto.scrypt at once would fill all 4 threads for
 * minutes, queueing every DNS lookup behind it, and on a 2-core machine take both cores from the
 * event loop and PostgreSQL. The default, max(1, min(cores − 1, 3)), leaves a core for the rest
 * of the process and at least one pool thread for DNS and files.
 *
 * Why not a worker_threads pool: it would keep the threadpool free, but costs a thread per slot
 * with its own V8 heap, and a worker script beside the TypeScript sources; with the bound above
 * crypto.scrypt already keeps the event loop and DNS answering (see the test and the
 * `password-bulk` bench scenario), so the simpler tool is enough.
 */
export function scryptOffLoop(concurrency: number): Scrypt {
  const limit = makeLimiter(concurrency);
  return (password, salt, keyBytes, cost) =>
    limit(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          scrypt(password, salt, keyBytes, { N: cost.N, r: cost.r, p: cost.p }, (err, key) => (err ? reject(err) : resolve(key)));
        }),
    );
}

/** The production password hasher: scrypt off the event loop, `concurrency` at a time. */
export function pooledPasswordHasher(concurrency: number): PasswordHasher {
  return makePasswordHasher(scryptOffLoop(concurrency), concurrency);
}
