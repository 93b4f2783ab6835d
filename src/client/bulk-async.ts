import { AppError } from '../core/errors.js';
import { retryAfterMs } from './bulk/retry.js';
import { statusResults, type OpResult } from './bulk/results.js';
import { errorDetail, type ScimHttp } from './scim-http.js';

/**
 * Follow an asynchronous request to its end (RFC 9967 §2.5.1): GET the `Location` of the 202
 * until the status resource says every operation has an outcome, waiting as its Retry-After says
 * (1 s when absent, at most 10 s between looks so completion is noticed soon). The status
 * resource is scimcast's (docs/async-requests.md: `status`, `operationsCount`,
 * `operations[]` by `index`); another shape is an error rather than a guess.
 */
export async function followAsync(
  http: ScimHttp,
  location: string,
  count: number,
  opts: { timeoutMs: number; firstWaitMs?: number | undefined; signal?: AbortSignal | undefined; onPoll?: () => void },
): Promise<(OpResult | undefined)[]> {
  const deadline = Date.now() + opts.timeoutMs;
  // The 202's own Retry-After says when the first look is worth it.
  if (opts.firstWaitMs) await new Promise((r) => setTimeout(r, Math.min(opts.firstWaitMs!, 10_000)));
  for (;;) {
    const a = await http.get(location);
    opts.onPoll?.();
    if (a.status !== 200) {
      throw new AppError('ERR_SCIM_CLIENT', `GET ${location} answered ${a.status}: ${errorDetail(a).detail}`);
    }
    const doc = statusResults(a.body, count);
    if (!doc) throw new AppError('ERR_SCIM_CLIENT', `GET ${location} did not return an asynchronous request status (operations[])`);
    if (doc.finished) return doc.results;
    if (Date.now() > deadline) throw new AppError('ERR_SCIM_CLIENT', `the asynchronous request at ${location} did not finish within ${Math.round(opts.timeoutMs / 1000)} s`);
    if (opts.signal?.aborted) throw new AppError('ERR_SCIM_CLIENT', `stopped while following ${location}`);
    const wait = Math.min(retryAfterMs(a.headers.get('retry-after'), Date.now()) ?? 1000, 10_000);
    await new Promise((r) => setTimeout(r, Math.max(100, wait)));
  }
}
