import { SetVerifyError, verifySet } from '../events/verify.js';
import { EVENT, normalizeEventUri } from '../events/uris.js';
import { JwksSource, type Jwks } from './jwks-source.js';
import type { SetOutput } from './ndjson-output.js';
import { pollSets, type PollOptions, type PollSummary } from './poll-loop.js';
import { listenForSets, type ListenOptions, type PushListener } from './push-listener.js';
import type { ReceivedSet, ReceiveOutcome, SetErrorCode } from './received-set.js';
import { RecentJtis } from './recent-jtis.js';
import { isObject } from '../core/is-object.js';

export type { ReceivedSet, ReceiveOutcome, SetErrorCode };

export interface ReceiverStats {
  accepted: number;
  duplicates: number;
  rejected: number;
}

export interface SetReceiverOptions {
  /** The transmitter's JWKS (e.g. http://127.0.0.1:8080/jwks.json); refreshed once on an unknown kid. */
  jwksUrl?: string | undefined;
  /** Fixed keys instead of jwksUrl. */
  jwks?: Jwks | undefined;
  /**
   * The `iss` every SET must carry (RFC 8417 §2.2; a mismatch is `invalid_issuer`, RFC 8935 §2.4).
   * Required: a receiver that does not know its transmitter would take SETs signed for any
   * issuer that shares the keys. `null` turns the check off on purpose (not recommended).
   * `fetchStreamExpectations` reads it from a scimcast stream.
   */
  issuer: string | null;
  /**
   * A value `aud` must contain: the stream's audience, so a SET meant for another stream of the
   * same transmitter is `invalid_audience`. Required like `issuer`; `null` turns the check off.
   */
  audience: string | null;
  /** Where accepted SETs are written (see ndjsonFile / ndjsonStream). */
  output?: SetOutput | undefined;
  /** Called for each accepted SET after it was written. */
  onSet?: ((set: ReceivedSet) => void | Promise<void>) | undefined;
  /** Accepted-with-a-caveat notes (e.g. a missing iat). */
  onWarning?: ((message: string) => void) | undefined;
  /** jtis remembered for de-duplication (default 100 000). */
  dedupeCapacity?: number | undefined;
  /** Spacing of JWKS refreshes (default 1000 ms). */
  jwksRefreshMinMs?: number | undefined;
}

const invalid = (description: string) => new SetVerifyError('invalid_request', description);

/**
 * An RFC 8935/8936 SET receiver: verifies each SET (typ, signature against the transmitter's JWKS,
 * iss, aud: RFC 8935 §2), is lenient where peers differ (legacy URI spellings, a numeric asyncresp
 * status, `aud` as a string), de-duplicates by jti and writes what it accepts before it is
 * acknowledged (RFC 9967 §5). `poll()` and `listen()` run it over
 * RFC 8936 or RFC 8935.
 */
export class SetReceiver {
  readonly stats: ReceiverStats = { accepted: 0, duplicates: 0, rejected: 0 };
  private readonly keys: JwksSource;
  private readonly recent: RecentJtis;
  private readonly writing = new Map<string, Promise<unknown>>();
  private started: Promise<void> | undefined;

  constructor(private readonly opts: SetReceiverOptions) {
    for (const name of ['issuer', 'audience'] as const) {
      const v: unknown = opts[name];
      if (v !== null && (typeof v !== 'string' || v === '')) {
        throw new TypeError(`SetReceiver: ${name} is required (the expected ${name === 'issuer' ? 'iss' : 'aud'} of the stream's SETs, or null to skip the check)`);
      }
    }
    this.keys = new JwksSource({ url: opts.jwksUrl, keys: opts.jwks, minRefreshMs: opts.jwksRefreshMinMs });
    this.recent = new RecentJtis(opts.dedupeCapacity ?? 100_000);
  }

  /** Fetch the keys (fails fast on a wrong --jwks) and remember the jtis the output already holds. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.keys.get();
      for (const jti of (await this.opts.output?.knownJtis?.(this.recent.capacity)) ?? []) this.recent.add(jti);
    })();
    return this.started;
  }

  /**
   * Verify one compact SET and write it if new. `jti` is the key the poll response filed it under.
   * Throws only when the SET cannot be judged now (JwksUnavailableError, an output failure).
   */
  async receive(jws: string, ctx: { jti?: string | undefined; via?: 'poll' | 'push' } = {}): Promise<ReceiveOutcome> {
    await this.start();
    const token = jws.trim();
    let set: ReceivedSet;
    try {
      set = this.toRecord(await this.verify(token), token, ctx);
    } catch (e) {
      if (!(e instanceof SetVerifyError)) throw e;
      this.stats.rejected++;
      return { outcome: 'rejected', jti: ctx.jti ?? unverifiedJti(token), err: e.err, description: e.description };
    }
    // The same SET may arrive twice at once (a retried push racing the first): the second waits.
    for (let w = this.writing.get(set.jti); w; w = this.writing.get(set.jti)) await w.catch(() => {});
    if (this.recent.has(set.jti)) {
      this.stats.duplicates++;
      return { outcome: 'duplicate', jti: set.jti };
    }
    const write = this.deliver(set);
    this.writing.set(set.jti, write);
    try {
      await write;
    } finally {
      this.writing.delete(set.jti);
    }
    this.recent.add(set.jti);
    this.stats.accepted++;
    for (const w of set.warnings ?? []) this.opts.onWarning?.(`SET ${set.jti}: ${w}`);
    return { outcome: 'accepted', jti: set.jti, set };
  }

  /** Make everything written so far durable; call before acknowledging. */
  async flush(): Promise<void> {
    await this.opts.output?.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.opts.output?.close();
  }

  /** RFC 8936 poll loop with this receiver. */
  poll(opts: PollOptions): Promise<PollSummary> {
    return pollSets(this, opts);
  }

  /** RFC 8935 push endpoint with this receiver. */
  listen(opts: ListenOptions): Promise<PushListener> {
    return listenForSets(this, opts);
  }

  /** verifySet, with one JWKS refresh when the kid is unknown (a rotated key). */
  private async verify(token: string) {
    const check = async () =>
      verifySet(token, { jwks: await this.keys.get(), issuer: this.opts.issuer ?? undefined, audience: this.opts.audience ?? undefined });
    try {
      return await check();
    } catch (e) {
      if (!(e instanceof SetVerifyError) || e.err !== 'invalid_key') throw e;
      if (!(await this.keys.refreshFor(unverifiedKid(token) ?? ''))) throw e;
      return check();
    }
  }

  private async deliver(set: ReceivedSet): Promise<void> {
    await this.opts.output?.write(set);
    await this.opts.onSet?.(set);
  }

  /** The claims checks verifySet leaves to the receiver, lenient where peers differ. */
  private toRecord(claims: unknown, token: string, ctx: { jti?: string | undefined; via?: 'poll' | 'push' }): ReceivedSet {
    const c = claims as Record<string, unknown>;
    if (typeof c.jti !== 'string' || c.jti === '') throw invalid('no jti claim (RFC 8417 §2.2)');
    if (ctx.jti !== undefined && ctx.jti !== c.jti) throw invalid(`jti claim "${c.jti}" is not the key "${ctx.jti}" it was delivered under`);
    const warnings: string[] = [];
    if (c.iat === undefined) warnings.push('no iat claim; accepted (RFC 8417 §2.2 requires it; i2scim omits it)');
    else if (typeof c.iat !== 'number' || !Number.isFinite(c.iat)) throw invalid('iat must be a NumericDate');
    if (c.iss !== undefined && typeof c.iss !== 'string') throw invalid('iss must be a string');
    if (c.txn !== undefined && typeof c.txn !== 'string') throw invalid('txn must be a string');
    const aud = c.aud === undefined ? [] : Array.isArray(c.aud) ? c.aud : [c.aud];
    if (!aud.every((a) => typeof a === 'string')) throw invalid('aud must be a string or an array of strings');
    const rec: ReceivedSet = {
      jti: c.jti,
      iss: c.iss as string | undefined,
      aud: aud as string[],
      iat: (c.iat as number | undefined) ?? null,
      ...(typeof c.toe === 'number' ? { toe: c.toe } : {}),
      txn: c.txn as string | undefined,
      sub_id: c.sub_id,
      events: normalizeEvents(c.events),
      received_at: new Date().toISOString(),
      via: ctx.via ?? 'push',
      set: token,
    };
    if (warnings.length > 0) rec.warnings = warnings;
    return rec;
  }
}

/**
 * RFC 8417 §2.2: `events` is an object of URI → object. URIs are mapped to the canonical RFC 9967 form
 * (upper-case `SCIM` and `misc:asyncResp` from the drafts, compared case-insensitively).
 */
function normalizeEvents(events: unknown): Record<string, Record<string, unknown>> {
  if (!isObject(events)) throw invalid('events must be a JSON object');
  const out: Record<string, Record<string, unknown>> = {};
  for (const [uri, payload] of Object.entries(events)) {
    if (!isObject(payload)) throw invalid(`event ${uri}: the payload must be a JSON object (RFC 8417 §2.2)`);
    const canonical = normalizeEventUri(uri);
    if (canonical in out) throw invalid(`event ${canonical} appears twice (RFC 8417 §2.2)`);
    out[canonical] = canonical === EVENT.asyncResp ? asyncResp(payload) : payload;
  }
  if (Object.keys(out).length === 0) throw invalid('events has no member (RFC 8417 §2.2)');
  return out;
}

/** RFC 9967 §2.5.1.3: `status` is a string; i2scim sends a number, which is accepted and written as a string. */
function asyncResp(p: Record<string, unknown>): Record<string, unknown> {
  const status = p.status;
  if (typeof status !== 'string' && !(typeof status === 'number' && Number.isInteger(status))) {
    throw invalid(`${EVENT.asyncResp}: status must be an HTTP status (string or number)`);
  }
  const out: Record<string, unknown> = { ...p, status: String(status) };
  if (isObject(p.response) && typeof p.response.status === 'number') out.response = { ...p.response, status: String(p.response.status) };
  return out;
}

/** A claim read without verification, only to name a rejected SET in logs or a kid to look up. */
function unverifiedPart(token: string, index: 0 | 1): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8'));
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function unverifiedKid(token: string): string | undefined {
  const kid = unverifiedPart(token, 0)?.kid;
  return typeof kid === 'string' ? kid : undefined;
}

function unverifiedJti(token: string): string | undefined {
  const jti = unverifiedPart(token, 1)?.jti;
  return typeof jti === 'string' ? jti : undefined;
}
