import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ScimError } from '../../core/errors.js';
import type { Principal, Scope } from '../../auth/scopes.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** The scope a route needs; `public` routes need no token; `authenticated` takes any valid token. */
    scope?: Scope | 'public' | 'authenticated';
  }
}

const REALM = 'Bearer realm="scimcast"';

/** RFC 6750 §3: 401 with WWW-Authenticate for a missing or bad token; 403 insufficient_scope. */
export function registerAuth(app: FastifyInstance, authenticate: (token: string) => Promise<Principal | undefined>): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const declared = req.routeOptions.config?.scope;
    if (declared === 'public' || req.is404) return;
    // Fail closed: a route that forgot to declare its scope is for operators only
    // (test/security/access-routes.test.ts names such a route).
    const scope = declared ?? 'admin';
    const header = req.headers.authorization;
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw new ScimError(401, undefined, 'Authentication required: send Authorization: Bearer <token>', { headers: { 'www-authenticate': REALM } });
    const principal = await authenticate(m[1]!);
    if (!principal) {
      throw new ScimError(401, undefined, 'The bearer token is invalid, expired or revoked', {
        headers: { 'www-authenticate': `${REALM}, error="invalid_token"` },
      });
    }
    if (scope !== 'authenticated' && !principal.scopes.has(scope)) {
      throw new ScimError(403, undefined, `This token lacks the scope "${scope}"`, {
        headers: { 'www-authenticate': `${REALM}, error="insufficient_scope", scope="${scope}"` },
      });
    }
    req.principal = principal;
  });
}
