import type { verifySet } from '../events/verify.js';

/** A JSON Web Key Set as verifySet takes it (RFC 7517 §5). */
export type Jwks = Parameters<typeof verifySet>[1]['jwks'];

/**
 * The transmitter's keys could not be fetched: the SET is neither good nor bad yet. The poll loop
 * leaves it unacknowledged and backs off; the push listener answers 503 so the transmitter retries.
 */
export class JwksUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwksUnavailableError';
  }
}

export interface JwksSourceOptions {
  /** Fetched with global fetch; refreshed when a SET names a kid it does not hold. */
  url?: string | undefined;
  /** Fixed keys instead of a URL (never refreshed). */
  keys?: Jwks | undefined;
  /** Refreshes are at least this far apart (default 1 s): a stream of made-up kids cannot flood the JWKS host. */
  minRefreshMs?: number | undefined;
  /** A kid still unknown after a refresh is not refreshed for again within this time (default 60 s). */
  negativeTtlMs?: number | undefined;
  timeoutMs?: number | undefined;
}

/**
 * The signing keys of one transmitter. A key rotation (`scimcast keys rotate`) shows up as a SET
 * with a new kid, so an unknown kid triggers one refresh (single-flight, spaced); a kid that is
 * still unknown after it is an `invalid_key` (RFC 8935 §2.4).
 */
export class JwksSource {
  private current: Jwks | undefined;
  private inflight: Promise<Jwks> | undefined;
  private lastFetchAt = 0;
  private readonly stillUnknown = new Map<string, number>();
  private readonly minRefreshMs: number;
  private readonly negativeTtlMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: JwksSourceOptions) {
    if (!opts.url && !opts.keys) throw new TypeError('a JWKS url or keys are required');
    this.current = opts.keys;
    this.minRefreshMs = opts.minRefreshMs ?? 1000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 60_000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  get refreshable(): boolean {
    return this.opts.url !== undefined;
  }

  async get(): Promise<Jwks> {
    return this.current ?? this.fetchOnce();
  }

  /** Fetch again because `kid` was not found; false when this kid was refreshed for moments ago. */
  async refreshFor(kid: string): Promise<Jwks | undefined> {
    if (!this.refreshable) return undefined;
    const at = this.stillUnknown.get(kid);
    if (at !== undefined && Date.now() - at < this.negativeTtlMs) return undefined;
    const wait = this.lastFetchAt + this.minRefreshMs - Date.now();
    if (wait > 0 && !this.inflight) await new Promise((r) => setTimeout(r, wait));
    const keys = await this.fetchOnce();
    if (!keys.keys.some((k) => k.kid === kid)) {
      this.stillUnknown.set(kid, Date.now());
      if (this.stillUnknown.size > 1000) this.stillUnknown.delete(this.stillUnknown.keys().next().value as string);
    }
    return keys;
  }

  private fetchOnce(): Promise<Jwks> {
    this.inflight ??= this.load().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async load(): Promise<Jwks> {
    const url = this.opts.url!;
    let res: Response;
    try {
      res = await fetch(url, { headers: { accept: 'application/jwk-set+json, application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw new JwksUnavailableError(`cannot fetch JWKS ${url}: ${(e as Error).message}`, { cause: e });
    } finally {
      this.lastFetchAt = Date.now();
    }
    if (!res.ok) throw new JwksUnavailableError(`cannot fetch JWKS ${url}: HTTP ${res.status}`);
    let body: unknown;
    try {
      body = await res.json();
    } catch (e) {
      throw new JwksUnavailableError(`JWKS ${url} is not JSON`, { cause: e });
    }
    const keys = (body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys) || !keys.every((k) => k !== null && typeof k === 'object')) throw new JwksUnavailableError(`JWKS ${url} has no "keys" array`);
    this.current = body as Jwks;
    return this.current;
  }
}
