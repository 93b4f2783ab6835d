import type { Principal } from '../auth/scopes.js';
import { badRequest } from '../core/errors.js';
import { callbackFeedId } from '../core/ids.js';
import type { Resolver, TargetPolicy } from '../delivery/safe-lookup.js';
import { EVENT } from '../events/uris.js';
import { checkPushTarget, type TargetLabel } from '../feeds/push-endpoint.js';
import { PUSH } from '../feeds/stream-config.js';
import type { FeedRow } from '../storage/index.js';

/**
 * Per-request callbacks: `Prefer: respond-async, callback="<url>"` asks for this request's
 * asyncresp SETs to be pushed (RFC 8935) to that URL as well as to the requester's streams. A
 * scimcast extension, not a standard. @see docs/decisions/0003-per-request-callback.md
 */
export const CALLBACK_SCOPE = 'scim:callback';

/** Who a callback may reach: the push streams' own rules (SCIMCAST_PUSH_ALLOW, loopback while HOST is). */
export interface CallbackPolicy extends TargetPolicy {
  /** Name resolution for the admission-time check; dns.lookup unless a test injects one. */
  readonly resolve?: Resolver | undefined;
}

/** As long as a push stream's endpoint_url may be. */
const MAX_LENGTH = 2048;

/** The URL may carry a token in its query: a refusal names the preference, never the URL. */
const LABEL: TargetLabel = { field: 'the callback URL', quoteUrl: false };

/**
 * Whether this request may have its callback, and where to: 400 invalidValue with the reason when
 * not (the caller then queues nothing). The URL is echoed in Preference-Applied as a quoted string
 * (RFC 7240 §2), so it must be printable ASCII without `"` or `\`; a URL needs neither.
 * The push target rules are checked here as far as they can be before a connection (IP literals,
 * the scheme, what the name resolves to now), and again at every connection (delivery/safe-lookup.ts).
 */
export async function checkCallback(url: string, principal: Principal, policy: CallbackPolicy | undefined): Promise<string> {
  if (!principal.scopes.has(CALLBACK_SCOPE)) {
    throw badRequest('invalidValue', `Prefer callback needs a token with the ${CALLBACK_SCOPE} scope; this one does not have it, so nothing was queued`);
  }
  if (!policy) throw badRequest('invalidValue', 'Prefer callback is not available on this server');
  if (url === '' || url.length > MAX_LENGTH || !/^[\x21-\x7e]+$/.test(url) || /["\\]/.test(url)) {
    throw badRequest('invalidValue', `the callback URL must be an absolute https URL of at most ${MAX_LENGTH} printable characters, without quotes or backslashes`);
  }
  await checkPushTarget(url, policy, policy.resolve, LABEL);
  return url;
}

/** The Preference-Applied entry of an honoured callback (RFC 7240 §3: the preference with its value). */
export const appliedCallback = (url: string): string => `callback="${url}"`;

/**
 * The push feed that carries one request's asyncresp SETs to its callback: the requester's, with
 * the callback URL as its audience (RFC 8417 §2.2 `aud`: the receiver the SET is meant for), the
 * default RFC 9967 profile, one SET in flight. Stored with the request, in the same statement.
 */
export function callbackFeed(txnId: string, owner: string, url: string, now: Date): FeedRow {
  return {
    id: callbackFeedId(txnId),
    owner,
    aud: url,
    description: null,
    deliveryMethod: PUSH,
    endpointUrl: url,
    authorizationHeader: null,
    eventsRequested: [EVENT.asyncResp],
    eventsDelivered: [EVENT.asyncResp],
    profile: 'rfc9967',
    status: 'enabled',
    statusReason: null,
    resourceTypes: [],
    defaultSubjects: 'ALL',
    kidMode: 'kid',
    maxInFlight: 1,
    createdAt: now,
    updatedAt: now,
    callbackTxn: txnId,
  };
}

/** How a callback ended or stands: kept with the request by feeds/callback.ts, shown by the status resource. */
