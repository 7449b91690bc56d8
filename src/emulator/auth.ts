import type { CinderContext, Env } from './env.js';
import { ApiError, UNAUTHORIZED_MESSAGE } from './errors.js';
import { header, type ApiRequest, type ApiResponse } from './http.js';

/**
 * Who is calling Cinder. noauth (no Keystone configured): `X-Auth-Token: user:project` gives an
 * admin context, no token gets 204 with hint headers (NoAuthMiddlewareIncludeProjectID).
 * keystone: the token must be one this emulator's Keystone issued and still valid, else 401 with
 * WWW-Authenticate as keystonemiddleware sends it.
 */
export type Identity = Omit<CinderContext, 'version'>;

export type AuthOutcome = { identity: Identity } | { response: ApiResponse };

function unauthorized(keystoneBase: string): ApiError {
  return new ApiError(
    401,
    { error: { code: 401, title: 'Unauthorized', message: UNAUTHORIZED_MESSAGE } },
    { 'WWW-Authenticate': `Keystone uri="${keystoneBase}"` },
  );
}

export function authenticate(req: ApiRequest, env: Env, keystoneBase: string | undefined): AuthOutcome {
  const token = header(req, 'x-auth-token');
  if (keystoneBase === undefined) {
    if (!token) {
      return {
        response: {
          status: 204,
          headers: {
            'X-Auth-Token': 'admin:admin',
            'X-Server-Management-Url': `${req.origin}${req.path}`,
            'Content-Type': 'text/plain; charset=UTF-8',
          },
        },
      };
    }
    const idx = token.indexOf(':');
    const user = idx >= 0 ? token.slice(0, idx) : token;
    const project = idx >= 0 ? token.slice(idx + 1) || user : user;
    return { identity: { userId: user, projectId: project, roles: ['admin'], isAdmin: true } };
  }
  if (!token) throw unauthorized(keystoneBase);
  const { token: t, expiredByFault } = env.identity.validForService(token, env.faults.tokenExpirySeconds);
  if (expiredByFault) env.stats.fault('tokenExpiry');
  if (!t) throw unauthorized(keystoneBase);
  const roles = t.roles.map((r) => r.name);
  return { identity: { userId: t.user.id, projectId: t.project.id, roles, isAdmin: roles.includes('admin') } };
}
