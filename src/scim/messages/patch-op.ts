import { badRequest } from '../../core/errors.js';
import { isObject } from '../../core/is-object.js';

/**
 * The PatchOp message (RFC 7644 §3.5.2): `schemas` and a non-empty `Operations` array of
 * {op, path?, value?}. Parsed here; what each operation does is the engine's (scim/patch/apply.ts).
 */
export const PATCH_OP_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export type PatchOpName = 'add' | 'remove' | 'replace';

const ciEq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** A member by name, case-insensitively like attribute names (RFC 7643 §2.1); an exact match first. */
export function getCi(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const key = Object.keys(obj).find((k) => ciEq(k, name));
  return key === undefined ? undefined : obj[key];
}

/** The operations of a PatchOp body, each a JSON object; the message as a whole is checked first. */
export function parsePatchOp(body: unknown): Record<string, unknown>[] {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'The PATCH body must be a JSON object with "schemas" and "Operations" (RFC 7644 §3.5.2)');
  const schemas = getCi(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && ciEq(s, PATCH_OP_URN))) {
    throw badRequest('invalidSyntax', `The PATCH body's "schemas" must contain "${PATCH_OP_URN}" (RFC 7644 §3.5.2)`);
  }
  const ops = getCi(body, 'Operations');
  if (!Array.isArray(ops) || ops.length === 0) throw badRequest('invalidSyntax', '"Operations" must be a non-empty array of PATCH operations (RFC 7644 §3.5.2)');
  ops.forEach((o, i) => {
    if (!isObject(o)) throw badRequest('invalidSyntax', `Operations[${i}] must be a JSON object with "op", and "path" and/or "value"`);
  });
  return ops as Record<string, unknown>[];
}

/**
 * An operation's `op`: lower case as RFC 7644 §3.5.2 writes it, or any case when `opCase` (the
 * compatibility switch for clients that send "Add" / "Replace" / "Remove") is on.
 */
export function patchOpName(raw: unknown, opCase: boolean): PatchOpName {
  if (raw === 'add' || raw === 'remove' || raw === 'replace') return raw;
  const lower = typeof raw === 'string' ? raw.toLowerCase() : undefined;
  if (lower === 'add' || lower === 'remove' || lower === 'replace') {
    if (opCase) return lower;
    throw badRequest('invalidSyntax', `"op" must be "${lower}" in lower case, not "${String(raw)}" (RFC 7644 §3.5.2)`);
  }
  throw badRequest('invalidSyntax', `"op" must be "add", "remove" or "replace"; got ${JSON.stringify(raw) ?? 'nothing'}`);
}
