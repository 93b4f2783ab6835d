import { z } from 'zod';
import { POLL_METHOD, PUSH_METHOD } from '../../core/delivery-methods.js';
import { streamInput } from '../../feeds/stream-config.js';
import { STATUSES } from '../../feeds/streams.js';
import { ref, strings, type JsonSchema } from './json-schema.js';

/**
 * The component schemas of the SSF stream API, the RFC 8936 poll, the operator API and the
 * service routes. The stream configuration comes from the zod schema that checks it
 * (feeds/stream-config.ts), so the document and the validation cannot drift apart.
 */

/** The JSON Schema zod derives, without its `$schema` (the document's dialect is already 2020-12). */
function fromZod(schema: z.ZodType, description: string): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  return { ...rest, description };
}

const streamId = { type: 'string', description: 'The stream, as `stream_id` in its configuration.' };

const statusSchema: JsonSchema = {
  type: 'object',
  description: 'OpenID SSF 1.0 §8.1.2 stream status.',
  properties: { stream_id: streamId, status: { type: 'string', enum: STATUSES }, reason: { type: 'string' } },
  required: ['stream_id', 'status'],
};

const subjectSchema: JsonSchema = {
  type: 'object',
  description: 'OpenID SSF 1.0 §8.1.3 add or remove a subject: a SCIM resource (RFC 9967 §2.1).',
  properties: {
    stream_id: streamId,
    subject: {
      type: 'object',
      properties: { format: { const: 'scim' }, uri: { type: 'string', examples: ['/Users/{id}', '/Groups/{id}'] } },
      required: ['format', 'uri'],
    },
  },
  required: ['stream_id', 'subject'],
};

const verifySchema: JsonSchema = {
  type: 'object',
  description: 'OpenID SSF 1.0 §8.1.4 verification request: a verification SET with `state` is delivered through the stream.',
  properties: { stream_id: streamId, state: { type: 'string' } },
  required: ['stream_id'],
};

const requeueSchema: JsonSchema = {
  type: 'object',
  description: 'Which SETs to requeue: explicit jtis, a jti range (inclusive), those since a time, or all.',
  properties: {
    jti: { oneOf: [{ type: 'string' }, strings()] },
    from_jti: { type: 'string' },
    to_jti: { type: 'string' },
    since: { type: 'string', format: 'date-time' },
    all: { type: 'boolean' },
  },
};

const statsSchema: JsonSchema = {
  type: 'object',
  description: "Where a stream's SETs stand.",
  properties: {
    stream_id: streamId,
    status: { type: 'string', enum: STATUSES },
    reason: { type: 'string' },
    delivery_method: { type: 'string', enum: [PUSH_METHOD, POLL_METHOD] },
    profile: { type: 'string', description: 'The SET profile the stream signs with (RFC 9967, or the draft-03 form).' },
    counts: { type: 'object', additionalProperties: { type: 'integer' }, description: 'SETs by state.' },
    backlog: { type: 'integer', description: 'SETs the receiver has yet to take (pending).' },
    delivered_per_minute: {
      type: 'array',
      items: { type: 'integer' },
      minItems: 60,
      maxItems: 60,
      description: 'SETs delivered (pushed or acknowledged) in each minute of the last hour, the oldest minute first.',
    },
    oldest_pending_age_seconds: { type: ['integer', 'null'] },
    last_error: { type: ['object', 'null'] },
  },
};

const deadLettersSchema: JsonSchema = {
  type: 'object',
  description: "A stream's dead-lettered SETs with their last error, oldest first.",
  properties: {
    stream_id: streamId,
    sets: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          jti: { type: 'string' },
          txn: { type: 'string' },
          event: { type: 'string' },
          subject: { type: 'string' },
          err: { type: 'string' },
          description: { type: 'string' },
          attempts: { type: 'integer' },
          created_at: { type: 'string', format: 'date-time' },
          failed_at: { type: ['string', 'null'], format: 'date-time' },
        },
      },
    },
  },
};

const pollRequestSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 8936 §2.2 poll request: acknowledge, report errors, ask for more SETs.',
  properties: {
    maxEvents: { type: 'integer', minimum: 0 },
    returnImmediately: { type: 'boolean' },
    ack: strings('jtis of SETs received.'),
    setErrs: {
      type: 'object',
      additionalProperties: { type: 'object', properties: { err: { type: 'string' }, description: { type: 'string' } }, required: ['err'] },
    },
    timeoutSecs: { type: 'number', minimum: 0, description: 'Long-poll timeout in seconds (an i2goSignals extension).' },
  },
};

const pollResponseSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 8936 §2.3 poll response: SETs by jti, each a signed JWS.',
  properties: { sets: { type: 'object', additionalProperties: { type: 'string' } }, moreAvailable: { type: 'boolean' } },
  required: ['sets'],
};

const ssfConfigurationSchema: JsonSchema = {
  type: 'object',
  description: 'OpenID SSF 1.0 §7.1 transmitter configuration metadata.',
  properties: {
    spec_version: { type: 'string' },
    issuer: { type: 'string', format: 'uri' },
    jwks_uri: { type: 'string', format: 'uri' },
    delivery_methods_supported: strings(),
    configuration_endpoint: { type: 'string', format: 'uri' },
    status_endpoint: { type: 'string', format: 'uri' },
    add_subject_endpoint: { type: 'string', format: 'uri' },
    remove_subject_endpoint: { type: 'string', format: 'uri' },
    verification_endpoint: { type: 'string', format: 'uri' },
    authorization_schemes: { type: 'array', items: { type: 'object' } },
    default_subjects: { type: 'string' },
  },
  required: ['issuer', 'jwks_uri'],
};

/** Every component schema of the non-SCIM routes, by name. */
export function ssfSchemas(): Record<string, JsonSchema> {
  const streamConfiguration = fromZod(streamInput, 'OpenID SSF 1.0 §8.1.1 stream configuration, with scimcast extensions. A push `authorization_header` is accepted and never returned.');
  return {
    StreamConfiguration: streamConfiguration,
    StreamConfigurations: { type: 'array', items: ref('StreamConfiguration'), description: "The caller's streams (GET without `stream_id`)." },
    StreamStatus: statusSchema,
    SubjectChange: subjectSchema,
    VerificationRequest: verifySchema,
    RequeueSelector: requeueSchema,
    RequeueResult: {
      type: 'object',
      description: 'How many SETs were requeued: `redriven` for a redrive, `replayed` for a replay.',
      properties: { stream_id: streamId, redriven: { type: 'integer' }, replayed: { type: 'integer' } },
    },
    StreamStats: statsSchema,
    DeadLetters: deadLettersSchema,
    PollRequest: pollRequestSchema,
    PollResponse: pollResponseSchema,
    SsfConfiguration: ssfConfigurationSchema,
    JwkSet: { type: 'object', description: 'RFC 7517 §5 JWK Set: the public keys SETs are signed with.', properties: { keys: { type: 'array', items: { type: 'object' } } }, required: ['keys'] },
    Health: { type: 'object', properties: { status: { const: 'ok' } }, required: ['status'] },
    Readiness: {
      type: 'object',
      description: 'Ready when the database answers and a worker is alive, and shutdown has not begun.',
      properties: { status: { type: 'string' }, database: { type: 'string', enum: ['ok', 'unreachable'] }, worker: { type: 'string', enum: ['ok', 'unreachable'] } },
      required: ['status'],
    },
    OpenApiDocument: { type: 'object', description: 'An OpenAPI 3.1 document: this one.' },
    SigningKeys: {
      type: 'object',
      description: 'The SET signing keys, newest first. Never key material: kid, algorithm, state and times.',
      properties: {
        keys: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              kid: { type: 'string' },
              alg: { type: 'string' },
              state: { type: 'string', enum: ['active', 'retired', 'revoked'] },
              created_at: { type: 'string', format: 'date-time' },
              retired_at: { type: ['string', 'null'], format: 'date-time' },
              revoked_at: { type: ['string', 'null'], format: 'date-time' },
              age_seconds: { type: 'integer' },
            },
            required: ['kid', 'alg', 'state', 'created_at', 'age_seconds'],
          },
        },
      },
      required: ['keys'],
    },
    OperatorHealth: {
      type: 'object',
      description: 'Readiness as /readyz decides it, each worker with its last heartbeat, and backlog totals over every stream. Parts that need the database are null while it is unreachable.',
      properties: {
        status: { type: 'string', enum: ['ready', 'not ready'] },
        database: { type: 'string', enum: ['ok', 'unreachable'] },
        worker: { type: 'string', enum: ['ok', 'unreachable'] },
        workers: {
          type: ['array', 'null'],
          items: {
            type: 'object',
            properties: { id: { type: 'string' }, last_heartbeat: { type: 'string', format: 'date-time' }, age_seconds: { type: 'integer' }, alive: { type: 'boolean' } },
          },
        },
        backlog: {
          type: ['object', 'null'],
          properties: {
            streams: { type: 'integer' },
            streams_behind: { type: 'integer' },
            pending: { type: 'integer' },
            dead: { type: 'integer' },
            oldest_pending_age_seconds: { type: ['integer', 'null'] },
          },
        },
      },
      required: ['status', 'database', 'worker'],
    },
  };
}
