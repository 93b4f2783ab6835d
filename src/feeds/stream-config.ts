import { z } from 'zod';
import { badRequest } from '../core/errors.js';
import { RESOURCE_TYPE_NAMES, type ResourceTypeName } from '../scim/resource-types.js';
import { compileWildcard } from './wildcard.js';
import { POLL_METHOD as POLL, PUSH_METHOD as PUSH } from '../core/delivery-methods.js';

/**
 * SSF 1.0 stream configuration (§8.1.1) as scimcast accepts it from a receiver.
 * Standard members plus scimcast's extensions (profile, resource_types, kid_mode, max_in_flight).
 */
export { PUSH_METHOD as PUSH, POLL_METHOD as POLL } from '../core/delivery-methods.js';

const delivery = z
  .object({
    method: z.enum([PUSH, POLL]),
    endpoint_url: z.string().max(2048).optional(),
    authorization_header: z.string().max(4096).optional(),
  })
  .strict();

/**
 * Bounds on what a receiver asks for: event URIs are under 100 characters, and there are a few
 * dozen event types, so these leave room while keeping the work of matching small and fixed.
 */
export const EVENTS_REQUESTED_MAX = 100;
export const EVENT_PATTERN_MAX_LENGTH = 512;

const receiverFields = {
  delivery: delivery.optional(),
  events_requested: z
    .array(z.string().min(1, 'an event URI or pattern must not be empty').max(EVENT_PATTERN_MAX_LENGTH, `an event URI or pattern has at most ${EVENT_PATTERN_MAX_LENGTH} characters`))
    .max(EVENTS_REQUESTED_MAX, `at most ${EVENTS_REQUESTED_MAX} entries`)
    .optional(),
  description: z.string().max(1024).optional(),
  /**
   * scimcast: 'rfc9967' (default) or the draft-03 event profile
   * (docs/decisions/0005-event-profiles-rfc9967-and-draft-03.md).
   */
  profile: z.enum(['rfc9967', 'draft-03']).optional(),
  /** scimcast: only events about these resource types (empty = all). */
  resource_types: z.array(z.enum(RESOURCE_TYPE_NAMES as [ResourceTypeName, ...ResourceTypeName[]])).max(RESOURCE_TYPE_NAMES.length).optional(),
  /** scimcast: 'ALL' subjects or 'NONE' (only those added with add-subject). */
  default_subjects: z.enum(['ALL', 'NONE']).optional(),
  /** scimcast: JOSE kid = key id (default) or the issuer, for receivers (i2goSignals) that look keys up by issuer. */
  kid_mode: z.enum(['kid', 'issuer']).optional(),
  /** scimcast: push SETs in flight at once; 1 keeps strict order. */
  max_in_flight: z.number().int().min(1).max(64).optional(),
};

/** Members only the transmitter sets; a receiver may echo them back unchanged (SSF §8.1.1). */
const transmitterFields = {
  stream_id: z.string().optional(),
  iss: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  events_supported: z.array(z.string()).optional(),
  events_delivered: z.array(z.string()).optional(),
  min_verification_interval: z.number().optional(),
  inactivity_timeout: z.number().optional(),
  poll_endpoint: z.string().optional(),
};

export const streamInput = z.object({ ...receiverFields, ...transmitterFields }).strict();
export type StreamInput = z.infer<typeof streamInput>;

export function parseStreamInput(body: unknown): StreamInput {
  const r = streamInput.safeParse(body ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw badRequest('invalidValue', `stream configuration: ${i.path.join('.') || '(body)'}: ${i.message}`);
  }
  return r.data;
}

/**
 * events_delivered = requested ∩ supported (SSF 1.0 §8.1.1). Requested entries are compared
 * case-insensitively after mapping legacy spellings; `*` wildcards are the i2goSignals extension,
 * matched without regular expressions (wildcard.ts: a receiver's pattern must not cost seconds).
 */
export function eventsDelivered(requested: readonly string[], supported: readonly string[], normalize: (u: string) => string): string[] {
  const out = new Set<string>();
  for (const raw of requested) {
    if (raw.includes('*')) {
      const matches = compileWildcard(raw);
      for (const s of supported) if (matches(s)) out.add(s);
      continue;
    }
    const n = normalize(raw).toLowerCase();
    const hit = supported.find((s) => s.toLowerCase() === n);
    if (hit) out.add(hit);
  }
  return supported.filter((s) => out.has(s));
}
