import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { admit, type Admission } from '../../async/accept.js';
import { appliedCallback, checkCallback } from '../../async/callback.js';
import { statusUrl } from '../../async/asyncresp.js';
import { executeTxn, type AsyncDeps, type TxnRun } from '../../async/execute.js';
import type { OperationRequest } from '../../async/operation.js';
import type { Preferences } from '../../async/prefer.js';
import { statusDocument } from '../../async/status.js';
import { callbackStatus } from '../../feeds/callback.js';
import { badRequest, notFound, ScimError, type ScimType } from '../../core/errors.js';
import { sendOutcome } from '../respond.js';
import { SCIM_CONTENT_TYPE } from '../plugins/scim-json.js';
import { integerParam, queryOf } from '../query.js';

/**
 * RFC 9967 §2.5.1.1 / §3: 202 Accepted, empty body, Set-Txn, Preference-Applied, and a Location
 * where the completion can be followed (ASYNC-5..ASYNC-10). Accept is not consulted (ASYNC-2).
 */
export function sendAccepted(reply: FastifyReply, baseUrl: string, txnId: string, applied: readonly string[]): FastifyReply {
  return reply
    .code(202)
    .header('set-txn', txnId)
    .header('preference-applied', applied.join(', '))
    .header('location', statusUrl(baseUrl, txnId))
    .header('retry-after', '1')
    .send();
}

const TIMEOUT = Symbol('timeout');

/**
 * The longest `wait=N` honoured (RFC 7240 §4.3 leaves the limit to the server). It also bounds how
 * long the queued job, the safety net of an inline run, is held back.
 */
export const MAX_WAIT_SECONDS = 60;

/**
 * Admit a request (issue 6 §2). With `wait=N` (PREF-4, spec-digest Q-8) it also runs inline, and
 * `run` is what that run did if it finished within N seconds; otherwise the answer is 202 while it
 * completes (the queued job, held back N seconds, skips what is already done).
 */
export async function admitAndWait(
  d: AsyncDeps,
  req: FastifyRequest,
  a: Omit<Admission, 'owner' | 'runAt'>,
  prefs: Preferences,
): Promise<{ txnId: string; applied: string[]; run?: TxnRun | undefined }> {
  const wait = prefs.wait !== undefined && prefs.wait > 0 ? Math.min(prefs.wait, MAX_WAIT_SECONDS) : undefined;
  // A callback is checked before anything is stored: refused, the request is answered 400 and
  // nothing is queued (async/callback.ts).
  const callback = prefs.callback === undefined ? undefined : await checkCallback(prefs.callback, req.principal!, d.callbacks);
  const txnId = await admit(
    { admissions: d.admissions, clock: d.clock, ids: d.ids, retentionMs: d.retentionMs, maxAttempts: d.maxAttempts },
    { ...a, owner: req.principal!.id, runAt: wait === undefined ? undefined : new Date(d.clock.now().getTime() + wait * 1000), priority: prefs.priority, callback },
  );
  // RFC 7240 §3: Preference-Applied names each preference honoured, with its value.
  const applied = ['respond-async', ...(prefs.priority ? [`priority=${prefs.priority}`] : []), ...(callback ? [appliedCallback(callback)] : [])];
  if (wait === undefined) return { txnId, applied };
  const inline = executeTxn(d, txnId).catch((err: unknown) => {
    req.log.warn({ err, txn: txnId }, 'inline async run failed; the queued job will retry');
    return undefined;
  });
  let timer: NodeJS.Timeout | undefined;
  const res = await Promise.race([inline, new Promise<typeof TIMEOUT>((r) => (timer = setTimeout(() => r(TIMEOUT), wait * 1000)))]);
  clearTimeout(timer);
  return { txnId, applied, run: res === TIMEOUT ? undefined : res };
}

/**
 * A single-resource operation with respond-async: 202, or with `wait=N` and finished in time the
 * normal synchronous response without Preference-Applied.
 */
export async function answerAsync(d: AsyncDeps, req: FastifyRequest, reply: FastifyReply, op: OperationRequest, prefs: Preferences) {
  const { txnId, applied, run } = await admitAndWait(
    d,
    req,
    { kind: 'single', method: op.method, path: req.url.split('?')[0]!.replace(/^\/scim\/v2/i, ''), request: op, ifMatch: op.ifMatch, opCount: 1 },
    prefs,
  );
  if (run?.kind === 'single' && run.result) {
    if (run.result.outcome) return sendOutcome(reply, run.result.outcome);
    const e = run.result.response!;
    throw new ScimError(Number(e.status), e.scimType as ScimType | undefined, e.detail);
  }
  return sendAccepted(reply, d.baseUrl, txnId, applied);
}

const STATUSES = ['pending', 'running', 'completed', 'failed'];

/** The status resource and its list (issue 6 §5); visible only to the requester. */
export function asyncRoutes(app: FastifyInstance, opts: { async: () => AsyncDeps }) {
  const auth = { config: { scope: 'authenticated' as const } };

  app.get<{ Params: { id: string } }>('/AsyncRequests/:id', auth, async (req, reply) => {
    const d = opts.async();
    const txn = await d.storage.txns.get(req.params.id, req.principal!.id);
    if (!txn || txn.expiresAt <= d.clock.now()) throw notFound(`async request ${req.params.id} not found`);
    const ops = await d.storage.txns.ops(txn.id);
    const finished = txn.status === 'completed' || txn.status === 'failed';
    if (!finished) reply.header('retry-after', '1');
    if (/application\/secevent\+jwt/i.test(req.headers.accept ?? '')) {
      if (!finished) return reply.code(202).send();
      if (txn.kind === 'single') return reply.type('application/secevent+jwt').send(ops[0]?.setJws ?? '');
      return reply.type('application/json').send({ sets: Object.fromEntries(ops.map((o) => [o.jti, o.setJws])) });
    }
    const callback = await callbackStatus(d.storage, txn);
    return reply.type(SCIM_CONTENT_TYPE).send(statusDocument(txn, ops, { withOperations: true, location: statusUrl(d.baseUrl, txn.id), callback }));
  });

  app.get('/AsyncRequests', auth, async (req, reply) => {
    const d = opts.async();
    const q = queryOf(req);
    const status = q.status;
    if (status !== undefined && !STATUSES.includes(status)) throw badRequest('invalidValue', `status must be one of ${STATUSES.join(', ')}`);
    const count = Math.min(Math.max(integerParam(q, 'count') ?? 100, 1), 1000);
    const now = d.clock.now();
    const txns = (await d.storage.txns.list(req.principal!.id, { status, limit: count })).filter((t) => t.expiresAt > now);
    const Resources = await Promise.all(
      txns.map(async (t) => statusDocument(t, await d.storage.txns.ops(t.id), { withOperations: false, location: statusUrl(d.baseUrl, t.id) })),
    );
    return reply.type(SCIM_CONTENT_TYPE).send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: Resources.length, startIndex: 1, itemsPerPage: Resources.length, Resources });
  });
}
