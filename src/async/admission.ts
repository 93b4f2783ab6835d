import type { Principal } from '../auth/scopes.js';
import { ScimError, type ScimType } from '../core/errors.js';
import type { Outcome } from '../provisioning/outcome.js';
import { admit, type Admission } from './accept.js';
import { statusUrl } from './asyncresp.js';
import { appliedCallback, checkCallback } from './callback.js';
import type { AsyncDeps } from './deps.js';
import { executeTxn, type TxnRun } from './execute.js';
import type { OperationRequest } from '../provisioning/operation.js';
import type { Preferences } from './prefer.js';

/**
 * The longest `wait=N` honoured (RFC 7240 §4.3 leaves the limit to the server). It also bounds how
 * long the queued job, the safety net of an inline run, is held back.
 */
export const MAX_WAIT_SECONDS = 60;

/** Where a failed inline run is reported: the request's log. */
export interface AdmissionLog {
  warn(obj: object, msg: string): void;
}

/** An admitted request: answered 202 with these, unless `run` finished within `wait=N`. */
export interface Admitted {
  txnId: string;
  /** The Preference-Applied values (RFC 7240 §3). */
  applied: string[];
  /** The status resource, for Location (RFC 9967 §2.5.1.1). */
  location: string;
  run?: TxnRun | undefined;
}

const TIMEOUT = Symbol('timeout');

/**
 * Admit a `Prefer: respond-async` request (RFC 7240 §4.1, RFC 9967 §2.5.1). With `wait=N`
 * (RFC 7240 §4.3) it also runs inline, and `run` is what that run did if it finished within N
 * seconds; otherwise the answer is 202 while it completes (the queued job, held back N seconds,
 * skips what is already done).
 */
export async function admitAndWait(
  d: AsyncDeps,
  principal: Principal,
  a: Omit<Admission, 'owner' | 'runAt'>,
  prefs: Preferences,
  log: AdmissionLog,
): Promise<Admitted> {
  const wait = prefs.wait !== undefined && prefs.wait > 0 ? Math.min(prefs.wait, MAX_WAIT_SECONDS) : undefined;
  // A callback is checked before anything is stored: refused, the request is answered 400 and
  // nothing is queued (async/callback.ts).
  const callback = prefs.callback === undefined ? undefined : await checkCallback(prefs.callback, principal, d.callbacks);
  const txnId = await admit(
    { admissions: d.admissions, clock: d.clock, ids: d.ids, retentionMs: d.retentionMs, maxAttempts: d.maxAttempts },
    { ...a, owner: principal.id, runAt: wait === undefined ? undefined : new Date(d.clock.now().getTime() + wait * 1000), priority: prefs.priority, callback },
  );
  // RFC 7240 §3: Preference-Applied names each preference honoured, with its value.
  const applied = ['respond-async', ...(prefs.priority ? [`priority=${prefs.priority}`] : []), ...(callback ? [appliedCallback(callback)] : [])];
  const location = statusUrl(d.baseUrl, txnId);
  if (wait === undefined) return { txnId, applied, location };
  const inline = executeTxn(d, txnId).catch((err: unknown) => {
    log.warn({ err, txn: txnId }, 'inline async run failed; the queued job will retry');
    return undefined;
  });
  let timer: NodeJS.Timeout | undefined;
  const res = await Promise.race([inline, new Promise<typeof TIMEOUT>((r) => (timer = setTimeout(() => r(TIMEOUT), wait * 1000)))]);
  clearTimeout(timer);
  return { txnId, applied, location, run: res === TIMEOUT ? undefined : res };
}

/** A single-resource operation's answer: accepted (202), or the synchronous outcome. */
export type SingleAnswer = ({ kind: 'accepted' } & Admitted) | { kind: 'done'; outcome: Outcome };

/**
 * A single-resource operation with respond-async: accepted, or with `wait=N` and finished in time
 * the normal synchronous outcome (without Preference-Applied); a failed operation is thrown as the
 * SCIM error it recorded.
 */
export async function admitOperation(d: AsyncDeps, principal: Principal, op: OperationRequest, path: string, prefs: Preferences, log: AdmissionLog): Promise<SingleAnswer> {
  const admitted = await admitAndWait(d, principal, { kind: 'single', method: op.method, path, request: op, ifMatch: op.ifMatch, opCount: 1 }, prefs, log);
  const run = admitted.run;
  if (run?.kind === 'single' && run.result) {
    if (run.result.outcome) return { kind: 'done', outcome: run.result.outcome };
    const e = run.result.response!;
    throw new ScimError(Number(e.status), e.scimType as ScimType | undefined, e.detail);
  }
  return { kind: 'accepted', ...admitted };
}
