/**
 * What a synchronous POST, PUT or PATCH answers, given `Prefer: return=` (RFC 7240 §4.2). Pure:
 * the routes decide nothing themselves, they load the resource when `body` asks for it and send.
 *
 * Without the preference the answers stay what they were: POST 201 with the resource, PUT 200
 * with the resource, a User PATCH 200 with the resource, a Group PATCH 204 (so a member change
 * never serialises the member list) unless `attributes`/`excludedAttributes` ask for a body.
 */
export type ReturnPreference = 'minimal' | 'representation';
export type WriteMethod = 'POST' | 'PUT' | 'PATCH';

export interface WriteAnswer {
  readonly status: 200 | 201 | 204;
  /** The resource goes in the body, projected by attributes/excludedAttributes (RFC 7644 §3.9). */
  readonly body: boolean;
  /** A Location header naming the resource. */
  readonly location: boolean;
  /**
   * The Preference-Applied value (RFC 7240 §3), only when the preference was given and is what
   * the answer follows.
   */
  readonly applied: `return=${ReturnPreference}` | undefined;
}

/**
 * `defaultStatus`: what provisioning answers for this write (201, 200, or 204 for a Group PATCH).
 * `selection`: whether the request has `attributes` or `excludedAttributes`.
 */
export function writeAnswer(method: WriteMethod, defaultStatus: number, preference: ReturnPreference | undefined, selection: boolean): WriteAnswer {
  const created = method === 'POST';
  if (preference === 'minimal') {
    // RFC 7240 §4.2: a minimal answer. A created resource still answers 201 (RFC 7644 §3.3),
    // with an empty body; Location and ETag say where it is and which version the write made.
    return { status: created ? 201 : 204, body: false, location: true, applied: 'return=minimal' };
  }
  if (preference === 'representation') {
    return { status: created ? 201 : 200, body: true, location: created, applied: 'return=representation' };
  }
  // RFC 7644 §3.5.2 lets a PATCH answer 200 or 204; asking for attributes is asking for a body.
  const status = defaultStatus === 204 && selection ? 200 : (defaultStatus as WriteAnswer['status']);
  return { status, body: status !== 204, location: status === 201, applied: undefined };
}
