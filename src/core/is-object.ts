/** A JSON object: not null, not an array (RFC 8259 §4). The one test every parser of a body starts with. */
export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
