import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ScimError } from '../../core/errors.js';
import { makeTokenBuckets, type TakeResult, type TokenBuckets } from '../../core/token-bucket.js';

/** Probes must keep answering under load: /healthz and /readyz are exempt. */
const EXEMPT = new Set(['/healthz', '/readyz']);

export interface RateLimitOptions {
  readonly rate: number;
  readonly burst: number;
  readonly now: () => number;
}

export interface RateLimit {
  readonly buckets: TokenBuckets;
  /** onRequest hooks that must run before authentication (address buckets). */
  beforeAuth(app: FastifyInstance): void;
  /** onRequest hook that must run after authentication (one bucket per principal). */
  afterAuth(app: FastifyInstance): void;
}

const needsToken = (req: FastifyRequest) => !req.is404 && req.routeOptions.config?.scope !== 'public';
const hasBearer = (req: FastifyRequest) => /^Bearer\s+\S/i.test(req.headers.authorization ?? '');
const exempt = (req: FastifyRequest) => !req.is404 && EXEMPT.has(req.routeOptions.url ?? '');

/**
 * Per-client rate limiting (SCIMCAST_RATE_LIMIT / SCIMCAST_RATE_BURST), answered 429 with Retry-After.
 * - A request with a valid token spends from its principal's bucket, whatever address it comes from.
 * - Public routes, unknown routes and requests without a token spend from their address's bucket.
 * - A bearer token that fails authentication spends from its address's *failure* bucket; once that
 *   is empty, further token-bearing requests from the address get 429 before any token lookup
 *   (guessing tokens is throttled, and a NAT neighbour's valid token is unaffected until then).
 * Refusal is 429 with Retry-After in whole seconds (RFC 6585 §4, RFC 9110 §10.2.3).
 */
export function makeRateLimit(o: RateLimitOptions): RateLimit {
  const buckets = makeTokenBuckets({ rate: o.rate, burst: o.burst, now: o.now });
  const refuse = (res: TakeResult) => {
    if (res.ok) return;
    const seconds = Math.max(1, Math.ceil(res.retryAfterMs / 1000));
    throw new ScimError(429, undefined, `Too many requests: the limit is ${o.rate} per second with bursts of ${o.burst}; retry after ${seconds} s`, {
      headers: { 'retry-after': String(seconds) },
    });
  };
  return {
    buckets,
    beforeAuth(app) {
      app.addHook('onRequest', async (req) => {
        if (exempt(req)) return;
        if (!needsToken(req) || !hasBearer(req)) return refuse(buckets.take(`ip:${req.ip}`));
        refuse(buckets.peek(`fail:${req.ip}`));
      });
      app.addHook('onResponse', async (req, reply) => {
        if (reply.statusCode === 401 && req.principal === undefined && hasBearer(req)) buckets.take(`fail:${req.ip}`);
      });
    },
    afterAuth(app) {
      app.addHook('onRequest', async (req) => {
        if (req.principal && !exempt(req)) refuse(buckets.take(`p:${req.principal.id}`));
      });
    },
  };
}
