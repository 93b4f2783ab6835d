// Calls to the scimcast API with the signed-in token. Same origin only (the page's CSP says
// connect-src 'self'); the token goes in the Authorization header and nowhere else.

const KEY = 'scimcast.console.token';

/** The token of this tab's session, or null. sessionStorage only: it ends with the tab. */
export const session = {
  token: () => sessionStorage.getItem(KEY),
  save: (token) => sessionStorage.setItem(KEY, token),
  clear: () => sessionStorage.removeItem(KEY),
};

/** An answer other than 2xx: its status, the SCIM detail, and for a 403 the scope it asked for. */
export class ApiError extends Error {
  constructor(status, detail, scope) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.scope = scope;
  }
}

/** The scope a 403 names in its challenge (RFC 6750 §3: error="insufficient_scope", scope="…"). */
function scopeOf(res) {
  const m = /scope="([^"]+)"/.exec(res.headers.get('www-authenticate') ?? '');
  return m ? m[1] : undefined;
}

/**
 * One API call. `accept` picks the representation; `body` is sent as JSON. Returns the parsed
 * JSON, the text for a non-JSON answer, or null for an empty one.
 */
export async function api(path, { method = 'GET', body, accept = 'application/scim+json, application/json', token = session.token() } = {}) {
  const headers = { accept, authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const json = /json/.test(type) && text !== '' ? JSON.parse(text) : undefined;
  if (!res.ok) throw new ApiError(res.status, json?.detail ?? text.slice(0, 200), res.status === 403 ? scopeOf(res) : undefined);
  return { status: res.status, data: json ?? (text === '' ? null : text) };
}
