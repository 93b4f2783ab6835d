import { badRequest } from '../core/errors.js';
import { isObject } from '../core/is-object.js';

/** RFC 8936 §2.2 poll request, as parsed (the request kinds of §2.4: poll, acknowledge, both). */
export interface PollRequest {
  ack: string[];
  setErrs: Record<string, { err: string; description?: string | undefined }>;
  /** undefined = no limit; 0 = acknowledge only (RFC 8936 §2.2; some transmitters read 0 as "no limit"). */
  maxEvents: number | undefined;
  returnImmediately: boolean;
  /** i2goSignals extension: long-poll timeout in seconds. */
  timeoutSecs: number | undefined;
}

const MAX_ACKS = 10_000;
const bad = (detail: string) => badRequest('invalidSyntax', `Invalid poll request: ${detail}`);

export function parsePollRequest(body: unknown): PollRequest {
  const b = body === undefined ? {} : body;
  if (!isObject(b)) throw bad('the body must be a JSON object');
  const ack = b.ack ?? [];
  if (!Array.isArray(ack) || !ack.every((j) => typeof j === 'string')) throw bad('ack must be an array of jti strings');
  if (ack.length > MAX_ACKS) throw bad(`ack has ${ack.length} entries; at most ${MAX_ACKS}`);
  const setErrsIn = b.setErrs ?? {};
  if (!isObject(setErrsIn)) throw bad('setErrs must be an object keyed by jti');
  const setErrs: PollRequest['setErrs'] = {};
  const entries = Object.entries(setErrsIn);
  if (entries.length > MAX_ACKS) throw bad(`setErrs has ${entries.length} entries; at most ${MAX_ACKS}`);
  for (const [jti, e] of entries) {
    if (!isObject(e) || typeof e.err !== 'string') throw bad(`setErrs["${jti}"] must be {"err": string, "description": string}`);
    if (e.description !== undefined && typeof e.description !== 'string') throw bad(`setErrs["${jti}"].description must be a string`);
    setErrs[jti] = { err: e.err, description: e.description as string | undefined };
  }
  const maxEvents = b.maxEvents;
  if (maxEvents !== undefined && (typeof maxEvents !== 'number' || !Number.isSafeInteger(maxEvents) || maxEvents < 0)) {
    throw bad('maxEvents must be a non-negative integer');
  }
  const ri = b.returnImmediately ?? false;
  if (typeof ri !== 'boolean') throw bad('returnImmediately must be a boolean');
  const timeoutSecs = b.timeoutSecs;
  if (timeoutSecs !== undefined && (typeof timeoutSecs !== 'number' || !(timeoutSecs >= 0))) throw bad('timeoutSecs must be a non-negative number');
  return { ack: ack as string[], setErrs, maxEvents: maxEvents as number | undefined, returnImmediately: ri, timeoutSecs: timeoutSecs as number | undefined };
}
