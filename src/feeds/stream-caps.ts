import { conflict } from '../core/errors.js';

/** The most streams one owner, and the whole deployment, may hold (config events.streamsMax*). */
export interface StreamCaps {
  readonly perOwner: number;
  readonly total: number;
}

/**
 * Room for one more stream, or a 409. Every stream costs a signature and a stored SET on every
 * change, so a token must not be able to create them without bound. Every stream counts, disabled
 * ones too (a delete frees the slot). SSF 1.0 §8.1.1.1 answers 409 when the transmitter holds no
 * further stream for a receiver, which may then read and update, or delete, the ones it has; 429
 * would say that waiting helps, 403 that the receiver may not create streams at all.
 */
export function checkStreamRoom(counts: { owner: number; total: number }, caps: StreamCaps): void {
  if (counts.owner >= caps.perOwner) {
    throw conflict(undefined, `stream limit reached: this owner has ${counts.owner} streams, the most allowed per owner (SCIMCAST_STREAMS_MAX_PER_OWNER = ${caps.perOwner}); delete one to create another`);
  }
  if (counts.total >= caps.total) {
    throw conflict(undefined, `stream limit reached: this server holds ${caps.total} streams, the most allowed (SCIMCAST_STREAMS_MAX = ${caps.total}); delete one to create another`);
  }
}
